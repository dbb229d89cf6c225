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
import { newWorkflow, startedWorkflow } from '../support/workflows.js';

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

  describe(`streaming ${BULK.toLocaleString('en')} rows`, () => {
    beforeAll(async () => {
      // 2 KB descriptions: 60 MB in all, far more than the sockets' buffers hold.
      await sql(`insert into workflows (id, owner_id, name, description, status, created_at, updated_at)
        select gen_random_uuid(), $1, 'bulk ' || i, repeat('x', 2000), 'DRAFT', now() - i * interval '1 second', now() from generate_series(1, $2::int) i`, [idOf('User', member.id), BULK]);
    });

    /** Opens the export and hands over the response once its headers are in. */
    const open = (path: string, token: string) => new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject).end();
    });

    it('should read a page at a time while a slow client catches up, and end whole', async () => {
      const pages = BULK / 100;
      let response!: import('node:http').IncomingMessage;
      const paused = await countStatements(server.app, async () => {
        response = await open('/api/export/workflows.csv', member.token);
        response.pause();
        await new Promise((resolve) => setTimeout(resolve, 4_000));
      });
      // Only what fits in the sockets' buffers is read while the client does not read: without
      // waiting for it, the server reads about half the pages in that time.
      expect(paused.count).toBeLessThan(pages / 5);
      let lines = 0;
      let tail = '';
      for await (const chunk of response) {
        const text = tail + chunk;
        lines += text.split('\r\n').length - 1;
        tail = text.slice(text.lastIndexOf('\r\n') + 2);
      }
      expect(lines).toBe(1 + BULK + 1);
    });

    it('should stop reading for a client that leaves, and keep serving', async () => {
      const left = await countStatements(server.app, async () => {
        const response = await open('/api/export/workflows.json', member.token);
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
