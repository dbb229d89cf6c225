/**
 * Exports (`GET /api/export/<list>.csv|json`) against the real server: the same visibility,
 * filters and errors as the GraphQL field behind each list, CSV that a spreadsheet reads
 * safely, and streaming: a page at a time, waiting for a slow reader, stopping for one that
 * leaves.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idOf } from '../../src/core/ids.js';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { claim, newWorkflow, startedWorkflow } from '../support/workflows.js';

const BULK = 30_000;
let server: TestServer;
let member: { id: string; email: string; token: string };
let other: { id: string; email: string; token: string };

const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);

const get = (path: string, token?: string) => fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** RFC 4180 rows (quoted fields with "" and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER', 'exporter');
  other = await server.newUser('MEMBER', 'neighbour');
  await newWorkflow(server, member.token, [], '=HYPERLINK("http://evil.example","click"), with "quotes"');
  await newWorkflow(server, other.token, [], 'not yours');
});
afterAll(() => server?.stop());

describe('exports', () => {
  it('should export what the list shows the caller, as CSV and JSON alike', async () => {
    const csv = await get('/api/export/workflows.csv', member.token);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="workflows.csv"');
    const [header, ...rows] = parseCsv(await csv.text());
    expect(header).toEqual(['id', 'name', 'description', 'status', 'ownerId', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt']);
    // The neighbour's workflow is not in the member's export; a formula is defused, quotes kept.
    expect(rows.map((r) => r[1])).toEqual([`'=HYPERLINK("http://evil.example","click"), with "quotes"`]);

    const json = await get('/api/export/workflows.json', server.adminToken);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const all = (await json.json()) as Array<Record<string, unknown>>;
    const listed = await server.gqlOk('{ workflows(first: 100) { edges { node { id name status } } } }', {}, server.adminToken);
    expect(all.map((w) => [w.id, w.name, w.status])).toEqual(listed.workflows.edges.map((e: any) => [e.node.id, e.node.name, e.node.status]));
    expect(all[0]).toHaveProperty('startedAt', null);
  });

  it('should take the list\'s filters, and refuse a bad one before sending anything', async () => {
    const drafts = (await (await get('/api/export/workflows.json?status=DRAFT,RUNNING&search=neighbour', server.adminToken)).json()) as unknown[];
    expect(drafts).toEqual([]);
    const mine = (await (await get('/api/export/workflows.json?search=not%20yours', server.adminToken)).json()) as Array<{ name: string }>;
    expect(mine.map((w) => w.name)).toEqual(['not yours']);
    // NUL would reach PostgreSQL (which refuses it) through any filter: a 400 naming it, as over GraphQL.
    for (const [list, query] of [['workflows', 'search=a%00b'], ['audit', 'action=%00']]) {
      const nul = await get(`/api/export/${list}.csv?${query}`, server.adminToken);
      expect(nul.status, query).toBe(400);
      expect(await nul.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: query.split('=')[0] } }] });
    }
    const bad = await get('/api/export/workflows.csv?status=BOGUS', member.token);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'status' } }] });
  });

  it('should refuse what the GraphQL field refuses: strangers, bad credentials, the audit log to a member', async () => {
    expect((await get('/api/export/alerts.csv')).status).toBe(401);
    const forged = await get('/api/export/alerts.csv', 'not-a-token');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
    const audit = await get('/api/export/audit.csv', member.token);
    expect(audit.status).toBe(403);
    expect(await audit.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const created = (await (await get('/api/export/audit.json?action=createWorkflow', server.adminToken)).json()) as Array<{ action: string }>;
    expect(created.length).toBeGreaterThanOrEqual(2);
    expect(new Set(created.map((e) => e.action))).toEqual(new Set(['createWorkflow']));
    expect((await get('/api/export/alerts.csv', member.token)).status).toBe(200);
    expect((await get('/api/export/nothing.csv', member.token)).status).toBe(404);
    // Inherited names are not lists either.
    for (const name of ['constructor', 'hasownproperty']) expect((await get(`/api/export/${name}.csv`, member.token)).status).toBe(404);
    expect((await fetch(`${server.url}/api/export/alerts.csv`, { method: 'POST', headers: { authorization: `Bearer ${member.token}` } })).status).toBe(405);
  });

  it('should export a metric series with the metricSeries arguments', async () => {
    const time = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
    const samples = [1, 3].map((value, i) => ({ name: 'exported_m', service: 'svc', value, time: new Date(time.getTime() + i * 1000).toISOString() }));
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: samples }, server.adminToken);
    const from = new Date(time.getTime() - 60_000).toISOString();
    const csv = await (await get(`/api/export/metrics.csv?name=exported_m&from=${from}&bucketSeconds=60&aggregate=MAX`, member.token)).text();
    expect(parseCsv(csv)).toEqual([['name', 'service', 'instance', 'time', 'value'], ['exported_m', 'svc', '', time.toISOString(), '3']]);
    const bad = await get('/api/export/metrics.json?name=exported_m&from=yesterday', member.token);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'from' } }] });
    expect((await get(`/api/export/metrics.json?from=${from}`, member.token)).status).toBe(400);
  });

  it("should export a workflow's tasks, the queue backlog, incidents and slow queries like their fields", async () => {
    const theirs = await startedWorkflow(server, other.token, [{ name: 'fetch', queue: 'exports-q' }, { name: 'later', queue: 'exports-q', dependsOn: ['fetch'] }], 'with tasks');
    const [header, ...rows] = parseCsv(await (await get(`/api/export/tasks.csv?workflowId=${theirs.id}`, other.token)).text());
    expect(header).toEqual(['id', 'name', 'status', 'queue', 'priority', 'attempts', 'maxAttempts', 'workerId', 'createdAt', 'startedAt', 'finishedAt', 'error']);
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([['fetch', 'READY', 'exports-q'], ['later', 'PENDING', 'exports-q']]);
    const ready = (await (await get(`/api/export/tasks.json?workflowId=${theirs.id}&status=READY`, other.token)).json()) as Array<{ name: string }>;
    expect(ready.map((t) => t.name)).toEqual(['fetch']);
    // another member's workflow is not found, as workflow(id) hides it; a missing id is refused
    expect((await get(`/api/export/tasks.csv?workflowId=${theirs.id}`, member.token)).status).toBe(404);
    expect((await get('/api/export/tasks.csv', member.token)).status).toBe(400);

    const queues = (await (await get('/api/export/queues.json', other.token)).json()) as Array<{ name: string; ready: number }>;
    expect(queues.find((q) => q.name === 'exports-q')).toMatchObject({ ready: 1, running: 0, delayed: 0 });
    // a member counts its own workflows' tasks only
    expect(((await (await get('/api/export/queues.json', member.token)).json()) as Array<{ name: string }>).find((q) => q.name === 'exports-q')).toBeUndefined();

    await server.gqlOk('mutation { createIncident(input: { title: "=cmd", impact: LOW, components: ["api"], message: "m" }) { id } }', {}, server.adminToken);
    const incidents = parseCsv(await (await get('/api/export/incidents.csv', member.token)).text());
    expect(incidents[0]).toEqual(['id', 'title', 'status', 'impact', 'components', 'startedAt', 'resolvedAt']);
    expect(incidents.slice(1).map((r) => [r[1], r[2], r[3], r[4], r[6]])).toEqual([["'=cmd", 'INVESTIGATING', 'LOW', '["api"]', '']]);

    expect((await get('/api/export/slow-queries.csv', member.token)).status).toBe(403);
    const slow = await get('/api/export/slow-queries.json?limit=3', server.adminToken);
    // 200 with at most 3 statements where pg_stat_statements is on, else its CONFLICT (409) with the hint
    if (slow.status === 200) expect(((await slow.json()) as unknown[]).length).toBeLessThanOrEqual(3);
    else expect(await slow.json()).toMatchObject({ errors: [{ extensions: { code: 'CONFLICT' } }] });
    expect((await get('/api/export/slow-queries.csv?since=soon', server.adminToken)).status).toBe(400);
  });

  it('should export templates and schedules as their fields list them to the caller', async () => {
    const { createTemplate: template } = await server.gqlOk('mutation { createTemplate(input: { name: "nightly export", tasks: [{ name: "a" }] }) { id } }', {}, other.token);
    const { createSchedule: schedule } = await server.gqlOk('mutation ($t: ID!) { createSchedule(input: { templateId: $t, cron: "30 2 * * *", timezone: "Europe/Berlin" }) { id } }', { t: template.id }, other.token);
    const [header, ...rows] = parseCsv(await (await get('/api/export/templates.csv', other.token)).text());
    expect(header).toEqual(['id', 'name', 'description', 'latestVersion', 'ownerId', 'createdAt', 'updatedAt']);
    expect(rows.map((r) => [r[0], r[1], r[3], r[4]])).toEqual([[template.id, 'nightly export', '1', other.id]]);
    const schedules = (await (await get('/api/export/schedules.json', other.token)).json()) as Array<Record<string, unknown>>;
    expect(schedules.map((s) => [s.id, s.templateId, s.cron, s.timezone, s.paused])).toEqual([[schedule.id, template.id, '30 2 * * *', 'Europe/Berlin', false]]);
    // another member sees neither
    expect(await (await get('/api/export/templates.json', member.token)).json()).toEqual([]);
    expect(await (await get('/api/export/schedules.json', member.token)).json()).toEqual([]);
    expect((await get('/api/export/schedules.csv')).status).toBe(401);
  });

  it("should export a schedule's run history, a template's versions and a workflow's run timeline as their fields show them", async () => {
    const { createTemplate: template } = await server.gqlOk('mutation { createTemplate(input: { name: "versioned", tasks: [{ name: "a", maxAttempts: 3, retry: { initialIntervalSeconds: 5 } }] }) { id } }', {}, other.token);
    await server.gqlOk('mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "versioned", description: "v2", tasks: [{ name: "a" }, { name: "b", dependsOn: ["a"], queue: "q2" }] }) { id } }', { id: template.id }, other.token);
    const versions = (await (await get(`/api/export/template-versions.json?templateId=${template.id}`, other.token)).json()) as Array<Record<string, any>>;
    expect(versions.map((v) => [v.templateId, v.version, v.description, v.createdById])).toEqual([[template.id, 2, 'v2', other.id], [template.id, 1, null, other.id]]);
    // the fields of TaskTemplate, not the stored retry policy
    expect(versions[1].tasks).toEqual([{ name: 'a', dependsOn: [], queue: 'default', maxAttempts: 3, priority: 0, timeoutSeconds: null, heartbeatTimeoutSeconds: expect.any(Number) }]);
    const [versionHeader] = parseCsv(await (await get(`/api/export/template-versions.csv?templateId=${template.id}`, other.token)).text());
    expect(versionHeader).toEqual(['templateId', 'version', 'name', 'description', 'tasks', 'createdById', 'createdAt']);

    const { createSchedule: schedule } = await server.gqlOk('mutation ($t: ID!) { createSchedule(input: { templateId: $t, cron: "0 3 * * *", paused: true }) { id } }', { t: template.id }, other.token);
    await sql(`insert into schedule_runs (schedule_id, scheduled_for, outcome, error) values ($1, '2026-11-01T03:00:00Z', 'SKIPPED', null), ($1, '2026-11-02T03:00:00Z', 'FAILED', '=boom')`, [idOf('Schedule', schedule.id)]);
    const [runHeader, ...runs] = parseCsv(await (await get(`/api/export/schedule-runs.csv?scheduleId=${schedule.id}`, other.token)).text());
    expect(runHeader).toEqual(['scheduledFor', 'outcome', 'error', 'workflowId', 'createdAt']);
    expect(runs.map((r) => r.slice(0, 4))).toEqual([['2026-11-02T03:00:00.000Z', 'FAILED', "'=boom", ''], ['2026-11-01T03:00:00.000Z', 'SKIPPED', '', '']]);
    const history = await server.gqlOk('query ($id: ID!) { schedule(id: $id) { history { scheduledFor outcome } } }', { id: schedule.id }, other.token);
    expect(history.schedule.history.map((h: any) => h.scheduledFor)).toEqual(runs.map((r) => r[0]));

    const workflow = await startedWorkflow(server, other.token, [{ name: 'first', queue: 'timeline-q' }, { name: 'second', queue: 'timeline-q', dependsOn: ['first'] }], 'timeline');
    const first = (await claim(server, other.token, 'timeline-q'))!;
    await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: first.id }, other.token);
    const second = (await claim(server, other.token, 'timeline-q'))!;
    await server.gqlOk('mutation ($id: ID!) { failTask(id: $id, error: "disk full", errorType: "io") { id } }', { id: second.id }, other.token);
    const timeline = (await (await get(`/api/export/task-runs.json?workflowId=${workflow.id}`, other.token)).json()) as Array<Record<string, any>>;
    expect(timeline.map((r) => [r.taskId, r.task, r.attempt, r.outcome, r.error, r.errorType])).toEqual([
      [first.id, 'first', 1, 'SUCCEEDED', null, null], [second.id, 'second', 1, 'FAILED', 'disk full', 'io'],
    ]);
    expect(Object.keys(timeline[0])).toEqual(['taskId', 'task', 'attempt', 'workerId', 'readyAt', 'startedAt', 'finishedAt', 'outcome', 'error', 'errorType']);

    // another member's are not found, as the fields hide them; a missing or wrong id is refused
    for (const path of [`template-versions.csv?templateId=${template.id}`, `schedule-runs.csv?scheduleId=${schedule.id}`, `task-runs.csv?workflowId=${workflow.id}`]) {
      const hidden = await get(`/api/export/${path}`, member.token);
      expect(hidden.status, path).toBe(404);
      expect(await hidden.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
      expect((await get(`/api/export/${path}`)).status, path).toBe(401);
    }
    for (const [path, field] of [['schedule-runs.csv', 'scheduleId'], [`schedule-runs.csv?scheduleId=${template.id}`, 'scheduleId'], ['template-versions.json', 'templateId'], ['task-runs.csv?workflowId=nonsense', 'workflowId']]) {
      const refused = await get(`/api/export/${path}`, other.token);
      expect(refused.status, path).toBe(400);
      expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field } }] });
    }
  });

  it('should export the alert rules and the routing lists to any signed-in user, contact point secrets redacted', async () => {
    const admin = (query: string) => server.gqlOk(query, {}, server.adminToken);
    const matchers = '[{ label: "service", op: "=", value: "exports" }]';
    const { createAlertRule: rule } = await admin('mutation { createAlertRule(input: { name: "Exported rule", metric: "error_rate_percent", comparator: ">", threshold: 5, severity: HIGH, labels: { team: "ops" } }) { id } }');
    const { createContactPoint: point } = await admin('mutation { createContactPoint(input: { name: "signed hook", kind: WEBHOOK, settings: { url: "http://127.0.0.1:9/hook", secret: "s3cret-value" } }) { id settings } }');
    const { createNotificationRoute: routed } = await server.gqlOk(`mutation ($p: ID!) { createNotificationRoute(input: { matchers: ${matchers}, contactPointIds: [$p], groupBy: ["service"] }) { id } }`, { p: point.id }, server.adminToken);
    const { createSilence: silence } = await server.gqlOk(`mutation ($e: DateTime!) { createSilence(input: { matchers: ${matchers}, endsAt: $e, comment: "deploy" }) { id } }`, { e: new Date(Date.now() + 3_600_000).toISOString() }, member.token);
    const { createMaintenanceWindow: window } = await admin(`mutation { createMaintenanceWindow(input: { name: "Sunday patching", matchers: ${matchers}, cron: "0 3 * * 0", durationMinutes: 30 }) { id } }`);
    const { createInhibitionRule: inhibition } = await admin(`mutation { createInhibitionRule(input: { source: ${matchers}, target: ${matchers}, equal: ["service"] }) { id } }`);

    const json = async (list: string) => (await (await get(`/api/export/${list}`, member.token)).json()) as Array<Record<string, any>>;
    const rules = await json('alert-rules.json');
    expect(rules.find((r) => r.id === rule.id)).toMatchObject({ name: 'Exported rule', comparator: '>', threshold: 5, severity: 'HIGH', labels: { team: 'ops' } });
    const listed = await server.gqlOk('{ alertRules { id } }', {}, member.token);
    expect(rules.map((r) => r.id)).toEqual(listed.alertRules.map((r: any) => r.id));

    const pointsCsv = await (await get('/api/export/contact-points.csv', member.token)).text();
    expect(pointsCsv).not.toContain('s3cret-value');
    const points = await json('contact-points.json');
    expect(points.find((p) => p.id === point.id)).toEqual({ id: point.id, name: 'signed hook', kind: 'WEBHOOK', enabled: true, settings: point.settings });

    expect((await json('routes.json')).find((r) => r.id === routed.id)).toMatchObject({ matchers: [{ label: 'service', op: '=', value: 'exports' }], contactPointIds: [point.id], groupBy: ['service'], continue: false });
    expect((await json('silences.json?active=true')).map((s) => [s.id, s.comment, s.active])).toEqual([[silence.id, 'deploy', true]]);
    expect(await json('silences.json?active=false')).toEqual([]);
    const windows = await json('maintenance-windows.json');
    expect(windows.find((w) => w.id === window.id)).toMatchObject({ name: 'Sunday patching', cron: '0 3 * * 0', durationMinutes: 30, timezone: 'UTC', activeNow: false });
    expect(windows.map((w) => w.id)).toEqual((await server.gqlOk('{ maintenanceWindows { id } }', {}, member.token)).maintenanceWindows.map((w: any) => w.id));
    const inhibitions = await json('inhibitions.json');
    expect(inhibitions.find((i) => i.id === inhibition.id)).toMatchObject({ source: [{ label: 'service', op: '=', value: 'exports' }], equal: ['service'] });
    expect(inhibitions.map((i) => i.id)).toEqual((await server.gqlOk('{ inhibitionRules { id } }', {}, member.token)).inhibitionRules.map((i: any) => i.id));
    const [routeHeader] = parseCsv(await (await get('/api/export/routes.csv', member.token)).text());
    expect(routeHeader).toContain('escalateToIds');

    const bad = await get('/api/export/silences.csv?active=maybe', member.token);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'active' } }] });
    for (const list of ['alert-rules', 'routes', 'silences', 'maintenance-windows', 'inhibitions', 'contact-points']) expect((await get(`/api/export/${list}.csv`)).status, list).toBe(401);
  });

  it('should export the operations report to admins, with its range', async () => {
    const from = '2026-11-01T00:00:00.000Z';
    const to = '2026-11-08T00:00:00.000Z';
    const csv = await get(`/api/export/report.csv?from=${from}&to=${to}`, server.adminToken);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="operations-report-2026-11-01-to-2026-11-08.csv"');
    const [header, ...rows] = parseCsv(await csv.text());
    expect(header).toEqual(['section', 'name', 'service', 'value', 'threshold', 'daysUntilThreshold', 'calls']);
    expect(rows.slice(0, 2)).toEqual([['summary', 'from', '', from, '', '', ''], ['summary', 'to', '', to, '', '', '']]);
    const { operationsReport: report } = await server.gqlOk('query ($f: DateTime!, $t: DateTime!) { operationsReport(from: $f, to: $t) { alertsOpened workflowsSucceeded capacity { metric } } }', { f: from, t: to }, server.adminToken);
    const json = (await (await get(`/api/export/report.json?from=${from}&to=${to}`, server.adminToken)).json()) as Array<Record<string, any>>;
    expect(json.find((r) => r.name === 'alertsOpened')).toMatchObject({ section: 'summary', value: report.alertsOpened });
    expect(json.find((r) => r.name === 'workflowsSucceeded')?.value).toBe(report.workflowsSucceeded);
    expect(json.filter((r) => r.section === 'capacity').map((r) => r.name)).toEqual(report.capacity.map((c: any) => c.metric));

    const member403 = await get(`/api/export/report.csv?from=${from}&to=${to}`, member.token);
    expect(member403.status).toBe(403);
    expect(await member403.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect((await get(`/api/export/report.csv?from=${from}`, member.token)).status).toBe(403);
    for (const [query, field] of [[`to=${to}`, 'from'], [`from=${to}&to=${from}`, 'from'], [`from=${from}&to=later`, 'to']]) {
      const refused = await get(`/api/export/report.csv?${query}`, server.adminToken);
      expect(refused.status, query).toBe(400);
      expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field } }] });
    }
  });

  describe(`streaming ${BULK.toLocaleString('en')} rows`, () => {
    let scheduleId = '';
    beforeAll(async () => {
      // 2 KB descriptions (and errors): 60 MB a list, far more than the sockets' buffers hold.
      await sql(`insert into workflows (id, owner_id, name, description, status, created_at, updated_at)
        select gen_random_uuid(), $1, 'bulk ' || i, repeat('x', 2000), 'DRAFT', now() - i * interval '1 second', now() from generate_series(1, $2::int) i`, [idOf('User', member.id), BULK]);
      const { createTemplate: template } = await server.gqlOk('mutation { createTemplate(input: { name: "bulk", tasks: [{ name: "a" }] }) { id } }', {}, member.token);
      scheduleId = (await server.gqlOk('mutation ($t: ID!) { createSchedule(input: { templateId: $t, cron: "* * * * *", paused: true }) { id } }', { t: template.id }, member.token)).createSchedule.id;
      await sql(`insert into schedule_runs (schedule_id, scheduled_for, outcome, error)
        select $1, now() - i * interval '1 minute', 'FAILED', repeat('x', 2000) from generate_series(1, $2::int) i`, [idOf('Schedule', scheduleId), BULK]);
    });

    /** Opens the export and hands over the response once its headers are in. */
    const open = (path: string, token: string) => new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject).end();
    });

    // the workflows list (a Relay connection read page by page) and a schedule's slot history (read by keyset)
    // (the member's workflow from the start is a row more)
    describe.each([
      ['workflows', () => '/api/export/workflows', 1],
      ["a schedule's runs", () => `/api/export/schedule-runs`, 0],
    ])('%s', (_list, base, more) => {
      const path = (format: string) => (base().includes('schedule-runs') ? `${base()}.${format}?scheduleId=${scheduleId}` : `${base()}.${format}`);

      it('should read a page at a time while a slow client catches up, and end whole', async () => {
        const pages = BULK / 100;
        let response!: import('node:http').IncomingMessage;
        const paused = await countStatements(server.app, async () => {
          response = await open(path('csv'), member.token);
          response.pause();
          await new Promise((resolve) => setTimeout(resolve, 4_000));
        });
        // Only what fits in the sockets' buffers is read while the client does not read: without
        // waiting for it, the server reads about half the pages in that time.
        expect(paused.count).toBeLessThan(pages / 5);
        let lines = 0;
        let tail = '';
        const drained = await countStatements(server.app, async () => {
          for await (const chunk of response) {
            const text = tail + chunk;
            lines += text.split('\r\n').length - 1;
            tail = text.slice(text.lastIndexOf('\r\n') + 2);
          }
        });
        expect(lines).toBe(1 + BULK + more);
        // a statement per page of 100, not one reading every row into memory
        expect(paused.count + drained.count).toBeGreaterThanOrEqual(pages);
      });

      it('should stop reading for a client that leaves, and keep serving', async () => {
        const left = await countStatements(server.app, async () => {
          const response = await open(path('json'), member.token);
          await new Promise((resolve) => response.once('data', resolve));
          response.destroy();
          await new Promise((resolve) => setTimeout(resolve, 3_000));
        });
        // What was read before it left, and nothing after: reading on, the server would have
        // read about a hundred more pages in that time.
        expect(left.count).toBeLessThan(BULK / 100 / 6);
        expect((await get('/api/health')).status).toBe(200);
      });
    });
  });
});
