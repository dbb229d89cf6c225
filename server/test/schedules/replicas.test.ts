/**
 * Exactly once across replicas: two replicas looking at the same due schedules at the same
 * moment fire each slot once; two live replicas firing every-second schedules never run a slot
 * twice; and with one of two replica processes SIGKILLed mid-way, the other carries on and still
 * no slot runs twice. There is no leader: the schedule row lock and the unique slot row do it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fireDueSchedules } from '../../src/schedules/firing.js';
import { createTestDatabase, sqlOn } from '../support/database.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { startPair } from '../support/replica-pair.js';
import type { TestServer } from '../support/server.js';

const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

type Client = { url: string; adminToken: string };

async function gql(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${client.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${client.adminToken}` }, body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function schedules(client: Client, count: number, cron: string): Promise<string[]> {
  const { createTemplate } = await gql(client, 'mutation { createTemplate(input: { name: "tick", tasks: [{ name: "t" }] }) { id } }');
  const ids = [];
  for (let i = 0; i < count; i++) {
    ids.push((await gql(client, 'mutation ($t: ID!, $c: String!) { createSchedule(input: { templateId: $t, cron: $c, overlapPolicy: ALLOW }) { id } }', { t: createTemplate.id, c: cron })).createSchedule.id);
  }
  return ids;
}

/** Runs per schedule and slot, from the workflows themselves (not only the slot rows). */
async function runsPerSlot(url: string) {
  return sqlOn(url, 'select schedule_id, scheduled_for, count(*)::int as runs from workflows where schedule_id is not null group by 1, 2 order by 1, 2');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedules across replicas', () => {
  let pair: [TestServer, TestServer];

  it('should fire each due slot once when both replicas look at the same moment', async () => {
    pair = await startPair({ RATE_LIMIT_PER_MINUTE: '0' });
    stops.push(() => pair[0].stop(), () => pair[1].stop());
    const [a, b] = pair;
    const ids = await schedules({ url: a.url, adminToken: a.adminToken }, 20, '0 * * * *');
    await sqlOn(a.database.url, "update schedules set next_run_at = '2026-01-01T05:00:00Z'");
    for (const hour of ['05', '06', '07']) {
      const now = new Date(`2026-01-01T${hour}:00:01Z`);
      const results = await Promise.all([fireDueSchedules(a.app.services, now), fireDueSchedules(b.app.services, now), fireDueSchedules(a.app.services, now)]);
      expect(results.reduce((sum, r) => sum + r.fired, 0), `fired at ${hour}:00`).toBe(20);
    }
    const runs = await runsPerSlot(a.database.url);
    expect(runs).toHaveLength(ids.length * 3);
    expect(runs.every((r) => r.runs === 1)).toBe(true);
  });

  it('should never run a slot twice with two live replicas firing every second', async () => {
    // Two replicas on a database of their own that fire for real: seconds on, a look every 100 ms each.
    const [x, y] = await startPair({ RATE_LIMIT_PER_MINUTE: '0', SCHEDULE_SECONDS: '1', SCHEDULER_INTERVAL_MS: '100' });
    stops.push(() => x.stop(), () => y.stop());
    const ids = await schedules({ url: x.url, adminToken: x.adminToken }, 3, '* * * * * *');
    await sleep(4000);
    for (const id of ids) await gql({ url: y.url, adminToken: y.adminToken }, 'mutation ($id: ID!) { pauseSchedule(id: $id) { id } }', { id });
    const runs = await runsPerSlot(x.database.url);
    expect(runs.filter((r) => r.runs !== 1), 'slots that ran more than once').toEqual([]);
    expect(runs.length).toBeGreaterThanOrEqual(ids.length * 3);
  });
});

describe('schedules with a replica SIGKILLed', () => {
  const replicas: ServerProcess[] = [];

  it('should keep firing on the survivor and never run a slot twice', async () => {
    const database = await createTestDatabase();
    stops.push(() => database.drop());
    const env = { SCHEDULE_SECONDS: '1', SCHEDULER_INTERVAL_MS: '100', RATE_LIMIT_PER_MINUTE: '0' };
    replicas.push(await startServerProcess(env, { database }));
    replicas.push(await startServerProcess(env, { database }));
    stops.push(() => replicas[1].stop(), () => replicas[0].stop());
    const [doomed, survivor] = replicas;
    const ids = await schedules(doomed, 4, '* * * * * *');
    await sleep(3000);
    const killedAt = new Date();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await sleep(3000);
    for (const id of ids) await gql(survivor, 'mutation ($id: ID!) { pauseSchedule(id: $id) { id } }', { id });
    const runs = await runsPerSlot(database.url);
    expect(runs.filter((r) => r.runs !== 1), 'slots that ran more than once').toEqual([]);
    for (const id of ids) {
      const uuid = Buffer.from(id, 'base64url').toString().split(':')[1];
      const slots = runs.filter((r) => r.schedule_id === uuid).map((r) => r.scheduled_for.getTime());
      // About six slots each (one a second for six seconds); the survivor fired after the kill.
      expect(slots.length, `slots of ${id}`).toBeGreaterThanOrEqual(4);
      expect(slots.some((slot) => slot > killedAt.getTime() + 1000), `slots of ${id} after the kill`).toBe(true);
      // Consecutive slots are whole seconds apart and never the same.
      expect(new Set(slots).size).toBe(slots.length);
    }
    const rows = await sqlOn(database.url, "select count(*)::int as n from schedule_runs where outcome = 'STARTED'");
    expect(rows[0].n).toBe(runs.length);
  }, 60_000);
});
