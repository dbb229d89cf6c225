import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsList } from '../../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connect, liveWorkflowEvents, until, type LiveClient } from '../support/live.js';
import { pgbouncerInstalled, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { claim, startedWorkflow } from '../support/workflows.js';

// Fewer server connections than the two replicas' pools open: clients really share them.
const POOL_SIZE = 3;
const MIGRATION_LOCK = 7_316_000;
const EVALUATOR_LOCK = 7_316_041;

let database: TestDatabase;
let bouncer: PgBouncer;
let a: TestServer;
let b: TestServer;
let live: LiveClient | undefined;

const env = (instance: string) => ({
  DATABASE_URL: bouncer.url,
  DATABASE_DIRECT_URL: database.url,
  INSTANCE_ID: instance,
  ALERT_EVAL_INTERVAL_SECONDS: '1',
  // Without Redis each replica finds the other's events by reading the events table (pooled).
  EVENT_POLL_INTERVAL_MS: '200',
  CACHE_TTL_SECONDS: '0',
});

// One connection to PostgreSQL itself, past PgBouncer, for the whole file (it leaves no
// closing backends behind to be counted).
let postgres: pg.Client;
const direct = async (sql: string, params: unknown[] = []): Promise<any[]> => (await postgres.query(sql, params)).rows;

/** Backends of the test database holding the advisory lock `key`, with the port they came from. */
const lockHolders = (key: number) => direct(
  `select a.client_port from pg_locks l join pg_stat_activity a using (pid)
   where l.locktype = 'advisory' and l.objid = $1 and l.granted and l.database = (select oid from pg_database where datname = current_database())`,
  [key],
);

/** The ports PgBouncer's server connections come from, as PostgreSQL sees them (client_port). */
const bouncerPorts = async () => new Set((await bouncer.show('SERVERS')).map((s) => Number(s.local_port)));

describe.skipIf(!pgbouncerInstalled())('PgBouncer in transaction mode (DATABASE_URL) with DATABASE_DIRECT_URL', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    postgres = new pg.Client({ connectionString: database.url });
    await postgres.connect();
    bouncer = await startPgBouncer(database.url, POOL_SIZE);
    [a, b] = await Promise.all([startTestServer(env('pgb-a'), database), startTestServer(env('pgb-b'), database)]);
  });
  afterAll(async () => {
    await live?.dispose();
    await Promise.all([a?.app.stop(), b?.app.stop()]);
    await bouncer?.stop();
    await postgres?.end();
    await database?.drop();
  });

  it('should apply every migration once while both replicas start together, and leave no migration lock behind', async () => {
    const applied = await direct('select name from mikro_orm_migrations order by id');
    expect(applied.map((m) => m.name)).toEqual(migrationsList.map((m) => m.name));
    expect(await lockHolders(MIGRATION_LOCK)).toEqual([]);
  });

  it('should run a workflow across both replicas, each task claimed once, with live events on the other replica', async () => {
    const member = await a.newUser('MEMBER');
    const onB = await b.login(member.email, 'password-123');
    live = connect(b.url, { token: onB });
    const events = await liveWorkflowEvents(b.app, live);

    const steps = Array.from({ length: 12 }, (_, i) => ({ name: `step-${i}`, queue: 'bounced' }));
    const workflow = await startedWorkflow(a, member.token, [...steps, { name: 'report', queue: 'bounced', dependsOn: steps.map((s) => s.name) }], 'through-pgbouncer');
    const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => claim(i % 2 ? b : a, i % 2 ? onB : member.token, 'bounced')));
    const claimed = claims.filter((c) => c !== null);
    expect(claimed.map((c) => c.name).sort()).toEqual(steps.map((s) => s.name).sort());

    // The two pools hold more connections to PgBouncer than it has to PostgreSQL.
    const ofDatabase = (rows: Array<Record<string, any>>) => rows.filter((row) => row.database === bouncer.database);
    expect(ofDatabase(await bouncer.show('CLIENTS')).length).toBeGreaterThan(POOL_SIZE);
    expect(ofDatabase(await bouncer.show('SERVERS')).length).toBeLessThanOrEqual(POOL_SIZE);

    const complete = (server: TestServer, token: string, id: string) =>
      server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { status } }', { id }, token);
    await Promise.all(claimed.map((task, i) => complete(i % 2 ? b : a, i % 2 ? onB : member.token, task.id)));
    const report = await claim(b, onB, 'bounced');
    expect(report?.name).toBe('report');
    await complete(a, member.token, report!.id);

    await until(() => events.values.some((e) => e.workflowEvents.workflow?.status === 'SUCCEEDED'), 'the SUCCEEDED event on the other replica');
    const seen = events.values.map((e) => e.workflowEvents);
    expect(seen.every((e) => e.workflowId === workflow.id)).toBe(true);
    expect(seen.at(-1)!.workflow.taskCounts).toEqual({ total: 13, succeeded: 13 });
  });

  it('should let exactly one replica evaluate alerts, holding its leader lock on a direct connection', async () => {
    const { createAlertRule: rule } = await a.gqlOk(
      'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      { input: { name: 'bounced', metric: 'bounced_metric', comparator: '>=', threshold: 1, severity: 'LOW' } },
      a.adminToken,
    );
    const ruleId = Buffer.from(rule.id, 'base64url').toString().split(':')[1];
    for (const [i, server] of [a, b].entries()) {
      await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
        s: ['s1', 's2'].map((service) => ({ name: 'bounced_metric', service, value: 5 + i })),
      }, server.adminToken);
    }
    await waitFor('an alert for each service', async () =>
      (await direct('select count(*)::int as n from alerts where rule_id = $1', [ruleId]))[0].n === 2);
    // More evaluation rounds, in which a second leader would evaluate too.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await direct('select service, status from alerts where rule_id = $1 order by service', [ruleId]))
      .toEqual([{ service: 's1', status: 'FIRING' }, { service: 's2', status: 'FIRING' }]);
    // Only the leader records component health, under its own instance.
    expect(await direct(`select distinct instance from metrics where name = 'component_up'`)).toHaveLength(1);
    const holders = await lockHolders(EVALUATOR_LOCK);
    expect(holders).toHaveLength(1);
    expect((await bouncerPorts()).has(holders[0].client_port)).toBe(false);
  });

  it('should reach PostgreSQL through PgBouncer only, but for the leader election', async () => {
    // Backends first: a server connection PgBouncer has now is still in SHOW SERVERS afterwards
    // (it closes idle ones only after 10 minutes).
    const backends = await direct(`select application_name, client_port from pg_stat_activity
      where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`);
    const ports = await bouncerPorts();
    const bypassing = backends.filter((backend) => !ports.has(backend.client_port));
    // Each replica's election connection: one leads, the other keeps trying.
    expect(bypassing.map((backend) => backend.application_name)).toEqual(['wf-leader', 'wf-leader']);
    expect(backends.length - bypassing.length).toBeLessThanOrEqual(POOL_SIZE);
  });
});
