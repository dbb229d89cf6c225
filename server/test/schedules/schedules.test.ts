/**
 * Schedules against the real server. The firing loop is driven by hand (`fireDueSchedules` with
 * a chosen `now`, the loop itself idle) so slots, catch-up windows and daylight-saving edges are
 * exact: every slot runs once, missed slots collapse into one run within the catch-up window,
 * overlap policies hold, backfill is bounded, and bad input is BAD_USER_INPUT naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireDueSchedules } from '../../src/schedules/firing.js';
import { sqlOn } from '../support/database.js';
import { countStatements } from '../support/statements.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: { id: string; token: string };
let other: { id: string; token: string };

const SCHEDULE = 'id cron timezone overlapPolicy paused nextRunAt lastRunAt catchupWindowSeconds templateVersion template { id }';
const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);
const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions;
const uuid = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

async function template(token = member.token, tasks = [{ name: 'work' }]) {
  return (await server.gqlOk('mutation ($t: [TaskInput!]!) { createTemplate(input: { name: "scheduled", tasks: $t }) { id } }', { t: tasks }, token)).createTemplate.id as string;
}

async function schedule(input: Record<string, unknown>, token = member.token) {
  const templateId = input.templateId ?? (await template(token));
  return (await server.gqlOk(`mutation ($i: ScheduleInput!) { createSchedule(input: $i) { ${SCHEDULE} } }`, { i: { templateId, ...input } }, token)).createSchedule;
}

/** Makes the schedule due from `at` (as if every replica had been down since), for a hand-driven look. */
async function dueSince(scheduleId: string, at: string) {
  await sql('update schedules set next_run_at = $1 where id = $2', [at, uuid(scheduleId)]);
}

async function runsOf(scheduleId: string) {
  return sql(
    `select r.scheduled_for, r.outcome, w.status, w.owner_id, w.template_version from schedule_runs r left join workflows w on w.id = r.workflow_id
      where r.schedule_id = $1 order by r.scheduled_for`,
    [uuid(scheduleId)],
  );
}
const slotsOf = async (scheduleId: string) => (await runsOf(scheduleId)).map((r) => r.scheduled_for.toISOString());

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER', 'scheduler');
  other = await server.newUser('MEMBER', 'other');
});
afterAll(async () => {
  await server?.stop();
});

describe('schedules', () => {
  it('should create a schedule with defaults and preview its next slots in its time zone', async () => {
    const created = await schedule({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' });
    expect(created).toMatchObject({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', overlapPolicy: 'SKIP', paused: false, catchupWindowSeconds: 3600, templateVersion: null, lastRunAt: null });
    const { schedule: read } = await server.gqlOk('query ($id: ID!) { schedule(id: $id) { nextRunAt upcoming(count: 3) } }', { id: created.id }, member.token);
    expect(read.upcoming).toHaveLength(3);
    expect(read.upcoming[0]).toBe(read.nextRunAt);
    for (const slot of read.upcoming) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', weekday: 'short' }).format(new Date(slot));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    }
    const defaults = await schedule({ cron: '@hourly' });
    expect(defaults.timezone).toBe('UTC');
  });

  it('should fire each slot once, pinned to the version, owned by the schedule owner, and collapse missed slots within the catch-up window', async () => {
    const templateId = await template();
    await server.gqlOk('mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "v2", tasks: [{ name: "a" }, { name: "b" }] }) { id } }', { id: templateId }, member.token);
    const pinned = await schedule({ templateId, templateVersion: 1, cron: '0 * * * *', overlapPolicy: 'ALLOW' });
    // Every replica was down from midnight: the newest slot (05:00) runs once, not five times.
    await dueSince(pinned.id, '2026-01-01T00:00:00Z');
    await fireDueSchedules(server.app.services, new Date('2026-01-01T05:30:00Z'));
    await fireDueSchedules(server.app.services, new Date('2026-01-01T05:45:00Z'));
    expect(await runsOf(pinned.id)).toEqual([expect.objectContaining({ outcome: 'STARTED', status: 'PENDING', owner_id: uuid(member.id), template_version: 1 })]);
    expect(await slotsOf(pinned.id)).toEqual(['2026-01-01T05:00:00.000Z']);
    await fireDueSchedules(server.app.services, new Date('2026-01-01T06:00:00Z'));
    expect(await slotsOf(pinned.id)).toEqual(['2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z']);
    const { schedule: after } = await server.gqlOk(
      'query ($id: ID!) { schedule(id: $id) { nextRunAt lastRunAt runs(first: 10) { totalCount edges { node { name scheduledFor templateVersion schedule { id } template { id } } } } } }',
      { id: pinned.id }, member.token,
    );
    expect(after).toMatchObject({ nextRunAt: '2026-01-01T07:00:00.000Z', lastRunAt: '2026-01-01T06:00:00.000Z' });
    expect(after.runs.totalCount).toBe(2);
    expect(after.runs.edges[0].node).toEqual({ name: 'scheduled', scheduledFor: '2026-01-01T06:00:00.000Z', templateVersion: 1, schedule: { id: pinned.id }, template: { id: templateId } });

    // The latest version when none is pinned; a slot older than the catch-up window does not run at all.
    const latest = await schedule({ templateId, cron: '0 * * * *', catchupWindowSeconds: 60 });
    await dueSince(latest.id, '2026-01-01T00:00:00Z');
    await fireDueSchedules(server.app.services, new Date('2026-01-01T05:30:00Z'));
    expect(await runsOf(latest.id)).toEqual([]);
    await fireDueSchedules(server.app.services, new Date('2026-01-01T06:00:30Z'));
    expect(await runsOf(latest.id)).toEqual([expect.objectContaining({ outcome: 'STARTED', template_version: 2 })]);
  });

  it('should never fire a slot twice, even when next_run_at is set back to it', async () => {
    const once = await schedule({ cron: '*/15 * * * *', overlapPolicy: 'ALLOW' });
    await dueSince(once.id, '2026-02-01T10:00:00Z');
    await fireDueSchedules(server.app.services, new Date('2026-02-01T10:00:05Z'));
    await dueSince(once.id, '2026-02-01T10:00:00Z');
    await fireDueSchedules(server.app.services, new Date('2026-02-01T10:00:05Z'));
    expect(await slotsOf(once.id)).toEqual(['2026-02-01T10:00:00.000Z']);
    expect((await sql('select count(*)::int as n from workflows where schedule_id = $1', [uuid(once.id)]))[0].n).toBe(1);
  });

  it('should fire many due schedules in one look, several at once, each slot once', async () => {
    const templateId = await template();
    const due = [];
    for (let i = 0; i < 12; i++) due.push((await schedule({ templateId, cron: '*/5 * * * *', overlapPolicy: 'ALLOW' })).id);
    for (const id of due) await dueSince(id, '2025-06-01T10:00:00Z');
    const looks = await Promise.all([fireDueSchedules(server.app.services, new Date('2025-06-01T10:00:05Z')), fireDueSchedules(server.app.services, new Date('2025-06-01T10:00:05Z'))]);
    expect(looks.reduce((sum, look) => sum + look.fired, 0)).toBe(12);
    expect(looks.map((look) => look.more)).toEqual([false, false]);
    for (const id of due) expect(await slotsOf(id)).toEqual(['2025-06-01T10:00:00.000Z']);
  });

  it('should fire across the spring-forward gap in Europe/Berlin at 03:00 CEST, once', async () => {
    const nightly = await schedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin', overlapPolicy: 'ALLOW', catchupWindowSeconds: 600 });
    await dueSince(nightly.id, '2026-03-28T01:30:00Z');
    await fireDueSchedules(server.app.services, new Date('2026-03-28T01:30:01Z'));
    // 29 March: 02:30 does not exist; the slot is 03:00 CEST = 01:00 UTC
    await fireDueSchedules(server.app.services, new Date('2026-03-29T00:59:59Z'));
    await fireDueSchedules(server.app.services, new Date('2026-03-29T01:00:01Z'));
    await fireDueSchedules(server.app.services, new Date('2026-03-29T01:30:01Z'));
    await fireDueSchedules(server.app.services, new Date('2026-03-30T00:30:01Z'));
    expect(await slotsOf(nightly.id)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('should apply the overlap policy while an earlier run is unfinished', async () => {
    const policies: Record<string, string[]> = {};
    for (const overlapPolicy of ['SKIP', 'ALLOW', 'CANCEL_PREVIOUS']) {
      const s = await schedule({ cron: '0 * * * *', overlapPolicy });
      await dueSince(s.id, '2026-01-02T05:00:00Z');
      await fireDueSchedules(server.app.services, new Date('2026-01-02T05:00:01Z'));
      await fireDueSchedules(server.app.services, new Date('2026-01-02T06:00:01Z'));
      policies[overlapPolicy] = (await runsOf(s.id)).map((r) => `${r.outcome}:${r.status ?? '-'}`);
    }
    expect(policies).toEqual({
      SKIP: ['STARTED:PENDING', 'SKIPPED:-'],
      ALLOW: ['STARTED:PENDING', 'STARTED:PENDING'],
      CANCEL_PREVIOUS: ['STARTED:CANCELLED', 'STARTED:PENDING'],
    });
  });

  it('should trigger a run now after the overlap policy, paused or not', async () => {
    const s = await schedule({ cron: '0 0 1 1 *', paused: true });
    expect(s).toMatchObject({ paused: true, nextRunAt: null });
    const TRIGGER = 'mutation ($id: ID!) { triggerSchedule(id: $id) { id status scheduledFor schedule { id } } }';
    const run = (await server.gqlOk(TRIGGER, { id: s.id }, member.token)).triggerSchedule;
    expect(run).toMatchObject({ status: 'PENDING', schedule: { id: s.id } });
    expect(Math.abs(Date.parse(run.scheduledFor) - Date.now())).toBeLessThan(60_000);
    expect(codeOf(await server.gql(TRIGGER, { id: s.id }, member.token))?.code).toBe('CONFLICT');
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: run.id }, member.token);
    expect((await server.gqlOk(TRIGGER, { id: s.id }, member.token)).triggerSchedule.id).not.toBe(run.id);
    // A retried trigger with its key answers the run the first made.
    const allow = await schedule({ cron: '@daily', overlapPolicy: 'ALLOW' });
    const KEYED = 'mutation ($id: ID!) { triggerSchedule(id: $id, idempotencyKey: "trigger-1") { id } }';
    const first = (await server.gqlOk(KEYED, { id: allow.id }, member.token)).triggerSchedule;
    expect((await server.gqlOk(KEYED, { id: allow.id }, member.token)).triggerSchedule.id).toBe(first.id);
    expect((await sql('select count(*)::int as n from workflows where schedule_id = $1', [uuid(allow.id)]))[0].n).toBe(1);
  });

  it("should list each schedule's newest slots with their outcome and workflow, every schedule of a page in one statement", async () => {
    const lister = await server.newUser('MEMBER', 'history');
    const made = [];
    for (let i = 0; i < 5; i++) {
      const s = await schedule({ cron: '0 * * * *', overlapPolicy: 'SKIP' }, lister.token);
      await dueSince(s.id, '2026-01-03T05:00:00Z');
      await fireDueSchedules(server.app.services, new Date('2026-01-03T05:00:01Z'));
      await fireDueSchedules(server.app.services, new Date('2026-01-03T06:00:01Z'));
      made.push(s.id);
    }
    const LIST = `query ($n: Int!, $h: Int) { schedules(first: $n) { edges { node { id history(first: $h) { scheduledFor outcome error workflow { name status scheduledFor } } } } } }`;
    let two: any;
    let five: any;
    const few = await countStatements(server.app, async () => (two = (await server.gqlOk(LIST, { n: 2, h: 5 }, lister.token)).schedules));
    const many = await countStatements(server.app, async () => (five = (await server.gqlOk(LIST, { n: 5, h: 2 }, lister.token)).schedules));
    expect(two.edges[0].node.history).toEqual([
      { scheduledFor: '2026-01-03T06:00:00.000Z', outcome: 'SKIPPED', error: null, workflow: null },
      { scheduledFor: '2026-01-03T05:00:00.000Z', outcome: 'STARTED', error: null, workflow: { name: 'scheduled', status: 'PENDING', scheduledFor: '2026-01-03T05:00:00.000Z' } },
    ]);
    expect(five.edges.map((e: any) => e.node.history.map((r: any) => r.outcome))).toEqual(Array(5).fill(['SKIPPED', 'STARTED']));
    expect((await server.gqlOk(LIST, { n: 1, h: 1 }, lister.token)).schedules.edges[0].node.history).toHaveLength(1);
    expect(many.count).toBe(few.count);
    expect(many.sql.filter((q) => q.includes('schedule_runs'))).toHaveLength(1);
    expect(codeOf(await server.gql(LIST, { n: 1, h: 101 }, lister.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    // Another member sees neither the schedule nor, through it, its history.
    expect((await server.gqlOk('query ($id: ID!) { schedule(id: $id) { history { outcome } } }', { id: made[0] }, other.token)).schedule).toBeNull();
  });

  it('should pause and resume: no slot runs while paused, the next is counted from the resume', async () => {
    const s = await schedule({ cron: '* * * * *' });
    const paused = (await server.gqlOk(`mutation ($id: ID!) { pauseSchedule(id: $id) { ${SCHEDULE} } }`, { id: s.id }, member.token)).pauseSchedule;
    expect(paused).toMatchObject({ paused: true, nextRunAt: null });
    await fireDueSchedules(server.app.services, new Date(Date.now() + 3_600_000));
    expect(await runsOf(s.id)).toEqual([]);
    const resumed = (await server.gqlOk(`mutation ($id: ID!) { resumeSchedule(id: $id) { ${SCHEDULE} } }`, { id: s.id }, member.token)).resumeSchedule;
    expect(resumed.paused).toBe(false);
    expect(Date.parse(resumed.nextRunAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(resumed.nextRunAt) - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('should backfill one run per slot that has not run, across daylight-saving edges, within bounds', async () => {
    const s = await schedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin', overlapPolicy: 'SKIP' });
    const BACKFILL = 'mutation ($id: ID!, $f: DateTime!, $t: DateTime!) { backfillSchedule(id: $id, from: $f, to: $t) }';
    const backfill = (f: string, t: string) => server.gql(BACKFILL, { id: s.id, f, t }, member.token);
    expect((await backfill('2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z')).data.backfillSchedule).toBe(4);
    expect(await slotsOf(s.id)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
    // Again: the slots ran already. Overlapping further: only the new ones; the fall-back day once.
    expect((await backfill('2026-03-27T12:00:00Z', '2026-04-01T12:00:00Z')).data.backfillSchedule).toBe(1);
    expect((await backfill('2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z')).data.backfillSchedule).toBe(1);
    const hourly = await schedule({ cron: '0 * * * *', timezone: 'Europe/Berlin' });
    const day = await server.gqlOk(BACKFILL, { id: hourly.id, f: '2026-10-24T22:00:00Z', t: '2026-10-25T22:59:59Z' }, member.token);
    expect(day.backfillSchedule).toBe(25);

    expect(codeOf(await backfill('2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(codeOf(await backfill('2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(codeOf(await backfill('2026-01-01T00:00:00Z', new Date(Date.now() + 86_400_000).toISOString()))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(codeOf(await backfill('2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to', maxRuns: 100 });
    expect(codeOf(await backfill('not a date', '2025-12-31T00:00:00Z'))?.code).toBe('BAD_USER_INPUT');
    // A refused backfill made nothing.
    expect(await runsOf(s.id)).toHaveLength(6);
  });

  it('should refuse bad input naming the field', async () => {
    const templateId = await template();
    const create = async (input: Record<string, unknown>) =>
      codeOf(await server.gql('mutation ($i: ScheduleInput!) { createSchedule(input: $i) { id } }', { i: { templateId, cron: '* * * * *', ...input } }, member.token));
    expect(await create({ cron: '61 * * * *' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.cron' });
    expect(await create({ cron: 'every minute' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.cron' });
    expect(await create({ cron: '*/5 * * * * *' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.cron' }); // seconds are off
    expect(await create({ cron: '0 0 30 2 *' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.cron' });
    expect(await create({ timezone: 'Mars/Olympus' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.timezone' });
    expect(await create({ catchupWindowSeconds: -1 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.catchupWindowSeconds' });
    expect(await create({ templateVersion: 2 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.templateVersion' });
    expect(await create({ templateId: await template(other.token) })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await create({ overlapPolicy: 'NEVER' })).toMatchObject({ code: 'BAD_USER_INPUT' });
    const s = await schedule({ templateId, cron: '@daily' });
    expect(codeOf(await server.gql('query ($id: ID!) { schedule(id: $id) { upcoming(count: 0) } }', { id: s.id }, member.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'count' });
    expect(codeOf(await server.gql('query ($id: ID!) { schedule(id: $id) { upcoming(count: 101) } }', { id: s.id }, member.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'count' });
    const update = await server.gql('mutation ($id: ID!, $t: ID!) { updateSchedule(id: $id, input: { templateId: $t, cron: "@daily", timezone: "Nowhere/Land" }) { id } }', { id: s.id, t: templateId }, member.token);
    expect(codeOf(update)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.timezone' });
    // A template a schedule runs cannot be deleted; the schedule can, and its runs stay.
    expect(codeOf(await server.gql('mutation ($id: ID!) { deleteTemplate(id: $id) }', { id: templateId }, member.token))?.code).toBe('CONFLICT');
  });

  it('should update, delete and keep runs; hide a member\'s schedules from others', async () => {
    const s = await schedule({ cron: '0 * * * *' });
    const { triggerSchedule: run } = await server.gqlOk('mutation ($id: ID!) { triggerSchedule(id: $id) { id } }', { id: s.id }, member.token);
    const templateId = s.template.id;
    const updated = (await server.gqlOk(`mutation ($id: ID!, $t: ID!) { updateSchedule(id: $id, input: { templateId: $t, cron: "15 3 * * *", timezone: "America/New_York", overlapPolicy: ALLOW }) { ${SCHEDULE} } }`, { id: s.id, t: templateId }, member.token)).updateSchedule;
    expect(updated).toMatchObject({ cron: '15 3 * * *', timezone: 'America/New_York', overlapPolicy: 'ALLOW' });
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' }).format(new Date(updated.nextRunAt))).toBe('03:15');
    expect((await server.gqlOk('query ($id: ID!) { schedule(id: $id) { id } }', { id: s.id }, other.token)).schedule).toBeNull();
    const list = (await server.gqlOk('{ schedules(first: 100) { totalCount edges { node { id } } } }', {}, other.token)).schedules;
    expect(list.totalCount).toBe(0);
    for (const mutation of ['pauseSchedule', 'resumeSchedule', 'deleteSchedule', 'triggerSchedule']) {
      const selection = mutation === 'deleteSchedule' ? '' : ' { id }';
      expect(codeOf(await server.gql(`mutation ($id: ID!) { ${mutation}(id: $id)${selection} }`, { id: s.id }, other.token))?.code, mutation).toBe('NOT_FOUND');
    }
    const mine = (await server.gqlOk('{ schedules(first: 100) { totalCount edges { node { id } } } }', {}, member.token)).schedules;
    expect(mine.edges.map((e: any) => e.node.id)).toContain(s.id);
    expect((await server.gqlOk('mutation ($id: ID!) { deleteSchedule(id: $id) }', { id: s.id }, member.token)).deleteSchedule).toBe(s.id);
    expect((await server.gqlOk('query ($id: ID!) { workflow(id: $id) { id schedule { id } scheduledFor } }', { id: run.id }, member.token)).workflow).toMatchObject({ id: run.id, schedule: null });
  });
});
