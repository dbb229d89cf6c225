/** The events table keeps its retention window, pruned by one replica at a time. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';
import { pruneExpiredEvents } from '../../src/live/retention.js';
import { connect, WORKFLOW_EVENTS, type WorkflowEventData } from '../support/live.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;
let db: pg.Client;

beforeAll(async () => {
  server = await startTestServer({ EVENT_RETENTION_HOURS: '24' });
  db = new pg.Client({ connectionString: server.database.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const eventIds = async () => (await db.query('select id::text from events order by id')).rows.map((r) => r.id as string);

describe('pruneExpiredEvents', () => {
  it('should delete the events older than the retention and keep the rest', async () => {
    for (const name of ['old 1', 'old 2', 'new']) await newWorkflow(server, server.adminToken, [], name);
    const [old1, old2, recent] = await eventIds();
    await db.query("update events set created_at = now() - interval '25 hours' where id in ($1, $2)", [old1, old2]);
    await db.query("update events set created_at = now() - interval '23 hours' where id = $1", [recent]);

    expect(await pruneExpiredEvents(server.app.orm.em, 24)).toBe(2);
    expect(await eventIds()).toEqual([recent]);
    expect(await pruneExpiredEvents(server.app.orm.em, 24)).toBe(0);
  });

  it('should skip while another replica is pruning', async () => {
    await newWorkflow(server, server.adminToken, [], 'expired');
    await db.query("update events set created_at = now() - interval '48 hours'");
    const other = new pg.Client({ connectionString: server.database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.eventPrune]);
      expect(await pruneExpiredEvents(server.app.orm.em, 24)).toBeNull();
      await other.query('commit');
      expect(await pruneExpiredEvents(server.app.orm.em, 24)).toBe(2);
    } finally {
      await other.end();
    }
  });

  it('should refuse to resume from a cursor whose event was pruned, and resume from one kept', async () => {
    for (const name of ['gone', 'kept', 'later']) await newWorkflow(server, server.adminToken, [], name);
    const ids = await eventIds();
    const [gone, kept] = ids.slice(-3);
    await db.query("update events set created_at = now() - interval '25 hours' where id = $1", [gone]);
    await pruneExpiredEvents(server.app.orm.em, 24);
    const client = connect(server.url, { token: server.adminToken });
    try {
      const stale = client.subscribe(WORKFLOW_EVENTS, { after: `workflow:${gone}` });
      await stale.done();
      expect(stale.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }]);
      expect(stale.errors[0].message).toContain('EVENT_RETENTION_HOURS');
      const resumed = client.subscribe<WorkflowEventData>(WORKFLOW_EVENTS, { after: `workflow:${kept}` });
      const [later] = await resumed.take(1);
      expect(later.workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { name: 'later' } });
    } finally {
      await client.dispose();
    }
  });
});
