import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { postgresBinaries, startPrimaryWithStandby, type Standby } from '../support/standby.js';
import { countStatements } from '../support/statements.js';
import { waitFor } from '../support/wait.js';
import { newWorkflow } from '../support/workflows.js';

const bin = await postgresBinaries();
const LIST = '{ workflows(first: 50) { totalCount edges { node { name tasks { name dependsOn { name } } } } } }';
const names = (data: any): string[] => data.workflows.edges.map((e: any) => e.node.name);

async function standbyHas(standby: Standby, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: standby.standbyUrl });
  await client.connect();
  try {
    return (await client.query('select 1 from workflows where name = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe.skipIf(!bin)('read replica (DATABASE_READ_URL) on a real streaming standby', () => {
  let standby: Standby;
  let server: TestServer;

  beforeAll(async () => {
    standby = await startPrimaryWithStandby(bin!);
    server = await startTestServer(
      { DATABASE_READ_URL: standby.standbyUrl, CACHE_TTL_SECONDS: '0' },
      { url: standby.primaryUrl, drop: async () => undefined },
    );
  });
  afterAll(async () => {
    await server?.stop();
    await standby?.stop();
  });

  it('should read queries from the replica, leaving the primary only the sign-in', async () => {
    await newWorkflow(server, server.adminToken, [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }], 'replicated');
    await waitFor('the standby to replay', () => standbyHas(standby, 'replicated'));
    const reads = server.app.services.reads.stats;
    const before = reads.replica;
    let data: any;
    const primary = await countStatements(server.app, async () => (data = await server.gqlOk(LIST, {}, server.adminToken)));
    expect(names(data)).toEqual(['replicated']);
    expect(reads.replica - before).toBeGreaterThanOrEqual(3);
    expect(primary.sql.filter((sql) => /workflows|tasks/.test(sql))).toEqual([]);
  });

  it('should answer a mutation from the primary, and let its client read it while the replica lags', async () => {
    await standby.pauseReplay(true);
    try {
      const created = await newWorkflow(server, server.adminToken, [{ name: 'x' }, { name: 'y', dependsOn: ['x'] }], 'while-lagging');
      expect(created.tasks.map((t: any) => t.name)).toEqual(['x', 'y']);
      expect(created.tasks[1].dependsOn).toEqual([{ name: 'x' }]);
      expect(await standbyHas(standby, 'while-lagging')).toBe(false);
      const { workflows } = await server.gqlOk(LIST, {}, server.adminToken);
      expect(names({ workflows })).toContain('while-lagging');
    } finally {
      await standby.pauseReplay(false);
    }
    await waitFor('the standby to catch up', () => standbyHas(standby, 'while-lagging'));
    const before = server.app.services.reads.stats.replica;
    await server.gqlOk(LIST, {}, server.adminToken);
    expect(server.app.services.reads.stats.replica).toBeGreaterThan(before);
  });
});
