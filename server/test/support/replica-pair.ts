/** Two in-process replicas on one database, and the event log they are checked against. */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { LiveClient, WorkflowEventData } from './live.js';
import { uniqueRedisPrefix } from './redis.js';
import { startTestServer, type TestServer } from './server.js';

/** The table poll at ten minutes: what arrives between replicas came through the bus. */
export const NO_POLL = { EVENT_POLL_INTERVAL_MS: '600000' };

export async function startPair(env: Record<string, string>): Promise<[TestServer, TestServer]> {
  const a = await startTestServer(env);
  const b = await startTestServer(env, a.database);
  return [a, b];
}

/** Workflow ids in the order of their CREATED events: the truth subscribers are compared with. */
export async function createdInOrder(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = (await client.query<{ workflow_id: string }>("select workflow_id from events where topic = 'workflow' and kind = 'CREATED' order by id")).rows;
    return rows.map((row) => row.workflow_id);
  } finally {
    await client.end();
  }
}

/** The uuid inside a workflow's global id (base64 of "Workflow:<uuid>"). */
export const uuidOf = (globalId: string): string => Buffer.from(globalId, 'base64').toString().replace(/^Workflow:/, '');

/** The workflows of the CREATED events received, in order. */
export const createdIds = (events: WorkflowEventData[]): string[] =>
  events.filter((e) => e.workflowEvents.kind === 'CREATED').map((e) => uuidOf(e.workflowEvents.workflow.id));

/**
 * Registers hooks that start `start()` (a Redis topology) and two replicas on it (distinct
 * prefix, no table poll) before the suite, and stop them and every client pushed to `clients` after.
 */
export function pairOnTopology<T extends { env: Record<string, string>; stop(): Promise<void> }>(start: () => Promise<T>, env: Record<string, string> = {}) {
  const pair = { clients: [] as LiveClient[] } as { topology: T; a: TestServer; b: TestServer; clients: LiveClient[] };
  beforeAll(async () => {
    pair.topology = await start();
    [pair.a, pair.b] = await startPair({ ...pair.topology.env, REDIS_PREFIX: uniqueRedisPrefix(), ...NO_POLL, ...env });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pair.clients.map((c) => c.dispose()));
    await pair.b?.stop();
    await pair.a?.stop();
    await pair.topology?.stop();
  });
  return pair;
}
