/**
 * The status page against the real server: uptime per day from seeded `component_up` samples
 * (through the rollups, after the raw samples are gone), the incident lifecycle and its refusals,
 * what the public page shows (no replica, instance, hostname or person), and who may see it
 * per STATUS_PAGE.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '../../src/db/orm.js';
import { pruneMetrics } from '../../src/metrics/retention.js';
import { rollUp } from '../../src/metrics/rollups.js';
import { toGlobalId } from '../../src/core/ids.js';
import { uptimeByComponent } from '../../src/status/components.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DAY = 86_400_000;
const INSTANCE = 'instance-7f3k-private';
const OTHER_REPLICA = 'replica-host-q9z-private';
let server: TestServer;
const em = () => server.app.orm.em.fork() as EntityManager;
const sql = (text: string, params: unknown[] = []) => em().execute(text, params);

const today = Math.floor(Date.now() / DAY) * DAY;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `values` as samples of `service` on the day starting at `day`, a minute apart from 10:00. */
async function seed(service: string, day: number, values: number[]): Promise<void> {
  for (const [i, value] of values.entries()) {
    await sql('insert into metrics (name, service, instance, time, value) values (?, ?, ?, ?, ?)', ['component_up', service, INSTANCE, new Date(day + 10 * 3_600_000 + i * 60_000), value]);
  }
}

const PAGE = `{ statusPage { components { name status uptime { date upPercent } } incidents { id title status updates { status message author { name email } } }
  maintenance { name activeNow nextStartsAt durationMinutes matchers { label op value } } } }`;

beforeAll(async () => {
  server = await startTestServer({ STATUS_PAGE: 'public', INSTANCE_ID: INSTANCE, RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(async () => {
  await server?.stop();
});

describe('uptime', () => {
  it('should give each UTC day the share of component_up samples that were up, replicas grouped into api, read from the rollups', async () => {
    await sql("delete from metrics where name = 'component_up'");
    // Ten days ago (past the 7-day raw retention, so only the rollups know it):
    // api 4 × 1, this replica 1, 1, 1, 0, another replica 0, 0 → api 7 of 10 = 70 %; database 4 of 5 = 80 %.
    await seed('api', today - 10 * DAY, [1, 1, 1, 1]);
    await seed(`replica:${INSTANCE}`, today - 10 * DAY, [1, 1, 1, 0]);
    await seed(`replica:${OTHER_REPLICA}`, today - 10 * DAY, [0, 0]);
    await seed('database', today - 10 * DAY, [1, 1, 1, 1, 0]);
    // Yesterday: api 100 %, database 1 of 2 = 50 %. Nothing on the days between.
    await seed('api', today - DAY, [1, 1]);
    await seed(`replica:${INSTANCE}`, today - DAY, [1, 1]);
    await seed('database', today - DAY, [1, 0]);
    for (let i = 0; i < 10 && (await rollUp(em())) > 0; i++);
    await pruneMetrics(em(), 7, { minute: 35, hour: 400, day: 400 });
    expect((await sql("select count(*)::int as n from metrics where name = 'component_up' and time < ?", [new Date(today - 7 * DAY)]))[0].n).toBe(0);

    const { statusPage } = await server.gqlOk(PAGE);
    const byName = Object.fromEntries(statusPage.components.map((c: any) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['api', 'database']);
    for (const component of statusPage.components) {
      expect(component.uptime).toHaveLength(90);
      expect(component.uptime.at(-1).date).toBe(isoDay(today));
      expect(component.uptime[0].date).toBe(isoDay(today - 89 * DAY));
    }
    const on = (name: string, day: number) => byName[name].uptime.find((d: any) => d.date === isoDay(day)).upPercent;
    expect(on('api', today - 10 * DAY)).toBeCloseTo(70, 9);
    expect(on('database', today - 10 * DAY)).toBeCloseTo(80, 9);
    expect(on('api', today - DAY)).toBe(100);
    expect(on('database', today - DAY)).toBe(50);
    expect(on('api', today - 5 * DAY)).toBeNull();
    expect(on('database', today - 30 * DAY)).toBeNull();

    const json = await (await fetch(`${server.url}/api/status`)).json();
    const api = json.components.find((c: any) => c.name === 'api');
    // the mean of the measured days: (70 + 100) / 2
    expect(api.uptimePercent).toBeCloseTo(85, 9);
    expect(api.uptime.find((d: any) => d.date === isoDay(today - 10 * DAY)).upPercent).toBeCloseTo(70, 9);
  });

  it('should take days 1 to 90 and refuse others', async () => {
    const three = await server.gqlOk('{ statusPage { components { uptime(days: 3) { date } } } }');
    expect(three.statusPage.components[0].uptime.map((d: any) => d.date)).toEqual([isoDay(today - 2 * DAY), isoDay(today - DAY), isoDay(today)]);
    for (const days of [0, 91]) {
      const refused = await server.gql(`{ statusPage { components { uptime(days: ${days}) { date } } } }`);
      expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('incidents', () => {
  const CREATE = 'mutation ($input: IncidentInput!) { createIncident(input: $input) { id title status impact components startedAt resolvedAt updates { status message author { email } } } }';
  const UPDATE = 'mutation ($id: ID!, $s: String!, $m: String!) { postIncidentUpdate(id: $id, status: $s, message: $m) { id status resolvedAt updates { status message } } }';
  const RESOLVE = 'mutation ($id: ID!, $m: String) { resolveIncident(id: $id, message: $m) { id status resolvedAt updates { status message } } }';
  const input = { title: 'Slow sign-in', impact: 'HIGH', components: ['api', 'database'], message: 'We are looking into slow sign-ins.' };

  it('should open, update and resolve an incident, each step audited', async () => {
    const { createIncident: created } = await server.gqlOk(CREATE, { input }, server.adminToken);
    expect(created).toMatchObject({ title: 'Slow sign-in', status: 'INVESTIGATING', impact: 'HIGH', components: ['api', 'database'], resolvedAt: null });
    expect(created.updates).toEqual([{ status: 'INVESTIGATING', message: input.message, author: { email: 'admin@test.local' } }]);

    await server.gqlOk(UPDATE, { id: created.id, s: 'IDENTIFIED', m: 'A slow query.' }, server.adminToken);
    const monitoring = (await server.gqlOk(UPDATE, { id: created.id, s: 'MONITORING', m: 'Fixed; watching.' }, server.adminToken)).postIncidentUpdate;
    expect(monitoring.status).toBe('MONITORING');
    const resolved = (await server.gqlOk(RESOLVE, { id: created.id }, server.adminToken)).resolveIncident;
    expect(resolved.status).toBe('RESOLVED');
    expect(Date.parse(resolved.resolvedAt)).toBeGreaterThanOrEqual(Date.parse(created.startedAt));
    expect(resolved.updates.map((u: any) => u.status)).toEqual(['RESOLVED', 'MONITORING', 'IDENTIFIED', 'INVESTIGATING']);
    expect(resolved.updates[0].message).toBe('This incident has been resolved.');

    const audit = await sql('select action, target_id from audit_log where action in (?, ?, ?) order by at', ['createIncident', 'postIncidentUpdate', 'resolveIncident']);
    expect(audit.map((a: any) => a.action)).toEqual(['createIncident', 'postIncidentUpdate', 'postIncidentUpdate', 'resolveIncident']);
    expect(new Set(audit.map((a: any) => a.target_id))).toEqual(new Set([created.id]));

    const node = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on Incident { title status } } }', { id: created.id }, server.adminToken);
    expect(node.node).toEqual({ title: 'Slow sign-in', status: 'RESOLVED' });
    const page = (await server.gqlOk('{ incidents(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }', {}, server.adminToken)).incidents;
    expect(page.edges[0].node.id).toBe(created.id);
  });

  it('should refuse bad input, unknown ids, resolved incidents and non-admins with a clear code, writing nothing', async () => {
    const { createIncident: open } = await server.gqlOk(CREATE, { input }, server.adminToken);
    const before = await sql('select (select count(*) from incidents)::int as i, (select count(*) from incident_updates)::int as u, (select count(*) from audit_log)::int as a');
    const member = await server.newUser('MEMBER');
    const counted = await sql('select (select count(*) from incidents)::int as i, (select count(*) from incident_updates)::int as u, (select count(*) from audit_log)::int as a');
    const code = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const result = await server.gql(query, variables, token);
      return [result.errors?.[0].extensions?.code, result.errors?.[0].message];
    };
    expect(await code(CREATE, { input: { ...input, title: '   ' } }, server.adminToken)).toEqual(['BAD_USER_INPUT', 'input.title must be 1 to 200 characters']);
    expect(await code(CREATE, { input: { ...input, message: '' } }, server.adminToken)).toEqual(['BAD_USER_INPUT', 'input.message must be 1 to 5,000 characters']);
    expect((await code(CREATE, { input: { ...input, components: ['api', 'mainframe'] } }, server.adminToken))[1]).toMatch(/unknown component "mainframe"; known: api, database/);
    expect(await code(UPDATE, { id: open.id, s: 'FIXED', m: 'x' }, server.adminToken)).toEqual(['BAD_USER_INPUT', 'status must be one of INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED']);
    expect(await code(UPDATE, { id: open.id, s: 'IDENTIFIED', m: ' ' }, server.adminToken)).toEqual(['BAD_USER_INPUT', 'message must be 1 to 5,000 characters']);
    expect(await code(UPDATE, { id: toGlobalId('Incident', '00000000-0000-4000-8000-000000000000'), s: 'IDENTIFIED', m: 'x' }, server.adminToken)).toEqual(['NOT_FOUND', 'Incident not found']);
    expect((await code(UPDATE, { id: toGlobalId('Alert', '00000000-0000-4000-8000-000000000000'), s: 'IDENTIFIED', m: 'x' }, server.adminToken))[0]).toBe('BAD_USER_INPUT');
    expect((await code(CREATE, { input }, member.token))[0]).toBe('FORBIDDEN');
    expect((await code(UPDATE, { id: open.id, s: 'IDENTIFIED', m: 'x' }, member.token))[0]).toBe('FORBIDDEN');
    expect((await code(RESOLVE, { id: open.id }, member.token))[0]).toBe('FORBIDDEN');
    expect((await code(CREATE, { input }))[0]).toBe('UNAUTHENTICATED');
    expect(await sql('select (select count(*) from incidents)::int as i, (select count(*) from incident_updates)::int as u, (select count(*) from audit_log)::int as a')).toEqual(counted);
    expect(counted[0].i).toBe(before[0].i);

    await server.gqlOk(RESOLVE, { id: open.id, m: 'Done.' }, server.adminToken);
    expect(await code(UPDATE, { id: open.id, s: 'MONITORING', m: 'again' }, server.adminToken)).toEqual(['CONFLICT', 'The incident is already RESOLVED; open a new one']);
    expect((await code(RESOLVE, { id: open.id }, server.adminToken))[0]).toBe('CONFLICT');
  });
});

describe('the public page', () => {
  const HOSTILE = '<script>alert("x")</script> & "quotes"';
  let author: { email: string; token: string };

  beforeAll(async () => {
    author = await server.newUser('ADMIN', 'zelda-authorname');
    await server.gqlOk('mutation ($input: IncidentInput!) { createIncident(input: $input) { id } }', {
      input: { title: HOSTILE, impact: 'CRITICAL', components: ['database'], message: `Investigating ${HOSTILE}` },
    }, author.token);
    // a heartbeat of a second replica, so health knows it by name
    await sql("insert into heartbeats (instance, last_seen_at) values (?, now()) on conflict (instance) do update set last_seen_at = now()", [OTHER_REPLICA]);
    // maintenance windows whose matchers name the replica: open now, tomorrow, and half a year away (not shown)
    const farMonth = ((new Date().getUTCMonth() + 6) % 12) + 1;
    for (const [name, cron] of [['Storage upgrade', '0 3 * * *'], ['Rolling restart', '* * * * *'], ['Yearly audit', `0 0 15 ${farMonth} *`]]) {
      await server.gqlOk('mutation ($input: MaintenanceWindowInput!) { createMaintenanceWindow(input: $input) { id } }', {
        input: { name, cron, durationMinutes: 90, matchers: [{ label: 'instance', op: '=', value: OTHER_REPLICA }, { label: 'window_label_q7', op: '=~', value: '.*' }] },
      }, server.adminToken);
    }
  });

  it('should render without any script, escape everything, and carry the security headers', async () => {
    const response = await fetch(`${server.url}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/script-src/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const body = await response.text();
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toMatch(/\son\w+=/i);
    expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(body).toContain('Open incidents');
    expect(body).toContain('Recently resolved');
    expect(body.match(/<li class="(ok|minor|major|bad|none)"/g)).toHaveLength(2 * 90);
    expect(body).toContain('Scheduled maintenance');
    expect(body.indexOf('Rolling restart')).toBeLessThan(body.indexOf('Storage upgrade'));
    expect(body).toContain('IN PROGRESS');
    expect(body).not.toContain('Yearly audit');
  });

  it('should list maintenance open now or within 14 days, soonest first, with its times', async () => {
    const { maintenance } = await (await fetch(`${server.url}/api/status`)).json() as { maintenance: Array<{ name: string; startsAt: string; endsAt: string; active: boolean }> };
    expect(maintenance.map((w) => [w.name, w.active])).toEqual([['Rolling restart', true], ['Storage upgrade', false]]);
    const now = Date.now();
    const [restart, storage] = maintenance;
    expect(Date.parse(restart.startsAt)).toBeLessThanOrEqual(now);
    expect(Date.parse(restart.endsAt) - Date.parse(restart.startsAt)).toBe(90 * 60_000);
    expect(new Date(storage.startsAt).getUTCHours()).toBe(3);
    expect(Date.parse(storage.startsAt) - now).toBeLessThanOrEqual(86_400_000);
    const anonymous = (await server.gqlOk(PAGE)).statusPage.maintenance;
    expect(anonymous.map((w: any) => [w.name, w.activeNow, w.durationMinutes, w.matchers])).toEqual([['Rolling restart', true, 90, []], ['Storage upgrade', false, 90, []]]);
    // signed in, the windows keep their matchers
    const signedIn = (await server.gqlOk(PAGE, {}, server.adminToken)).statusPage.maintenance;
    expect(signedIn[0].matchers.map((m: any) => m.value)).toEqual([OTHER_REPLICA, '.*']);
  });

  it('should leak no replica, instance, hostname, error detail or person, over HTML, JSON and GraphQL', async () => {
    // what is there to leak: health (for signed-in users) names both replicas
    const health = await server.gqlOk('{ health { components { name } } }', {}, server.adminToken);
    expect(health.health.components.map((c: any) => c.name)).toEqual(expect.arrayContaining([`replica:${INSTANCE}`, `replica:${OTHER_REPLICA}`]));
    const html = await (await fetch(`${server.url}/status`)).text();
    const json = await (await fetch(`${server.url}/api/status`)).text();
    const graphql = JSON.stringify(await server.gql(PAGE));
    expect(JSON.parse(json).incidents[0].title).toBe(HOSTILE);
    expect(JSON.parse(graphql).data.statusPage.incidents[0].updates[0].author).toBeNull();
    expect(JSON.parse(json).maintenance).toHaveLength(2);
    // maintenance windows' matchers name the other replica and a label of their own
    const secrets = [INSTANCE, OTHER_REPLICA, 'replica:', os.hostname(), author.email, 'zelda', 'admin@test.local', 'latency', 'heartbeat', server.database.url.split('/').pop()!, '127.0.0.1', 'window_label_q7'];
    for (const [name, text] of [['html', html], ['json', json], ['graphql', graphql]]) {
      for (const secret of secrets) expect(text.includes(secret), `${name} contains ${secret}`).toBe(false);
    }
    // a signed-in admin sees who wrote it
    const signedIn = await server.gqlOk(PAGE, {}, server.adminToken);
    expect(signedIn.statusPage.incidents[0].updates[0].author.name).toBe('zelda-authorname');
  });
});

describe('speed', () => {
  it('should answer /status and /api/status quickly over 90 days of hourly rollups of five replicas', async () => {
    // 90 days × 24 hours × (api, database, 5 replicas) = 15,120 rollup rows; raw samples for the last hour
    await sql(`insert into metric_rollups_hour (name, service, instance, bucket, samples, sum, min, max, p95)
      select 'component_up', s, ?, h, 240, 239, 0, 1, 1
        from generate_series(date_trunc('hour', now()) - interval '90 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') h,
             unnest(array['api', 'database', 'replica:r1', 'replica:r2', 'replica:r3', 'replica:r4', 'replica:r5']) s
      on conflict do nothing`, [INSTANCE]);
    await sql(`insert into metric_rollup_state (tier, rolled_until) values ('hour', date_trunc('hour', now()))
      on conflict (tier) do update set rolled_until = greatest(metric_rollup_state.rolled_until, excluded.rolled_until)`);
    const median = async (runs: number, work: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await work();
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
    };
    // the read of the rollups itself, which a replica does at most once a minute
    const read = await median(10, () => uptimeByComponent(em(), 7, 90));
    const page = await median(20, async () => {
      const response = await fetch(`${server.url}/status`);
      await response.text();
      expect(response.status).toBe(200);
    });
    console.log(`status page: uptime read of 90 days (uncached) median ${read.toFixed(1)} ms; GET /status median ${page.toFixed(1)} ms`);
    expect(read).toBeLessThan(1000);
    expect(page).toBeLessThan(500);
  });
});

describe('STATUS_PAGE', () => {
  it('should answer 401 without a session when private (the default), with a sign-in link', async () => {
    const privateServer = await startTestServer();
    try {
      const page = await fetch(`${privateServer.url}/status`);
      expect(page.status).toBe(401);
      const body = await page.text();
      expect(body).toContain('href="/login?next=%2Fstatus"');
      expect(body).not.toMatch(/<script/i);
      expect((await fetch(`${privateServer.url}/api/status`)).status).toBe(401);
      expect((await privateServer.gql('{ statusPage { components { name } } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const token = privateServer.adminToken;
      expect((await fetch(`${privateServer.url}/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${privateServer.url}/status`, { headers: { cookie: `wf_session=${token}` } })).status).toBe(200);
      const api = await fetch(`${privateServer.url}/api/status`, { headers: { cookie: `wf_session=${token}` } });
      expect(api.status).toBe(200);
      expect(api.headers.get('cache-control')).toBe('private, no-store');
      expect((await fetch(`${privateServer.url}/status`, { headers: { cookie: 'wf_session=not-a-session' } })).status).toBe(401);
    } finally {
      await privateServer.stop();
    }
  });

  it('should answer 404 when off, and keep the statusPage query for signed-in users', async () => {
    const offServer = await startTestServer({ STATUS_PAGE: 'off' });
    try {
      expect((await fetch(`${offServer.url}/status`, { headers: { authorization: `Bearer ${offServer.adminToken}` } })).status).toBe(404);
      expect((await fetch(`${offServer.url}/api/status`)).status).toBe(404);
      const { statusPage } = await offServer.gqlOk('{ statusPage { components { name } } }', {}, offServer.adminToken);
      expect(statusPage.components.map((c: any) => c.name)).toContain('database');
    } finally {
      await offServer.stop();
    }
  });

  it('should refuse an unknown value at start', async () => {
    const { loadConfig } = await import('../../src/app/config.js');
    expect(() => loadConfig({ STATUS_PAGE: 'secret' })).toThrow('Invalid setting STATUS_PAGE: expected one of public, private, off');
  });
});
