import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMAIL, demoWanted } from '../../src/demo/seed.js';
import { startDemo } from '../../src/demo/worker.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

const LIST = `{ workflows(first: 100) { totalCount edges { node { name status owner { email } tasks { name status attempts maxAttempts error } } } } }`;
type Listed = { name: string; status: string; owner: { email: string }; tasks: { name: string; status: string; attempts: number; maxAttempts: number; error: string | null }[] };

async function demoWorkflows(server: TestServer): Promise<Listed[]> {
  const data = await server.gqlOk(LIST, {}, server.adminToken);
  return data.workflows.edges.map((e: { node: Listed }) => e.node).filter((w: Listed) => w.owner.email === DEMO_EMAIL);
}

async function eventCount(server: TestServer): Promise<number> {
  const [row] = await server.app.orm.em.fork().execute('select count(*)::int as n from events');
  return row.n;
}

describe('demo mode', () => {
  describe('with DEMO=1', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ DEMO: '1' });
    });
    afterAll(() => server?.stop());

    it('should seed workflows of every kind, one left as a draft, owned by the demo account', async () => {
      const workflows = await demoWorkflows(server);
      expect(workflows.map((w) => w.name).sort()).toEqual(
        ['Deploy web app', 'Model refresh', 'Nightly data import', 'Product image thumbnails', 'Weekly billing run'],
      );
      expect(workflows.filter((w) => w.status === 'DRAFT')).toHaveLength(1);
    });

    it('should claim demo tasks within seconds', async () => {
      await expect.poll(async () => (await demoWorkflows(server)).flatMap((w) => w.tasks).filter((t) => t.attempts > 0).length, { timeout: 5_000 }).toBeGreaterThan(0);
    });
  });

  describe('demoWanted', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server?.stop());

    const embedded = (demo?: boolean) => ({ ...server.app.services, config: { ...server.app.services.config, databaseUrl: undefined, demo } });

    it('should follow DEMO when set, and stay off on an external database when unset, saying why', async () => {
      expect(await demoWanted(embedded(true))).toEqual({ on: true, reason: 'DEMO=1' });
      expect(await demoWanted(embedded(false))).toEqual({ on: false, reason: 'DEMO=0' });
      expect(await demoWanted({ ...server.app.services, config: { ...server.app.services.config, demo: undefined } }))
        .toEqual({ on: false, reason: 'DATABASE_URL is set (DEMO=1 turns it on)' });
    });

    it('should be on for an embedded database holding only demo workflows, and off once real work exists, saying so', async () => {
      expect(await demoWanted(embedded())).toMatchObject({ on: true, reason: expect.stringContaining('no workflows of your own yet') });
      const demo = await startDemo(server.app.services, server.url, { tickMs: 60_000 });
      await demo.stop();
      expect((await demoWanted(embedded())).on).toBe(true);
      await newWorkflow(server, server.adminToken, [{ name: 'real' }], 'real work');
      expect(await demoWanted(embedded())).toEqual({ on: false, reason: 'the database holds 1 workflow(s) of your own (DEMO=1 turns it back on)' });
    });
  });

  describe('startDemo', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server?.stop());

    it('should run every started workflow to success, then start another, and stop changing anything once stopped', async () => {
      const demo = await startDemo(server.app.services, server.url, { tickMs: 20, taskMs: [5, 20], idleMs: 100, failureRate: 0, concurrency: 5 });
      try {
        await expect.poll(async () => (await demoWorkflows(server)).filter((w) => w.status === 'SUCCEEDED').length, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(5);
      } finally {
        await demo.stop();
      }
      const workflows = await demoWorkflows(server);
      expect(workflows.filter((w) => w.status === 'DRAFT')).toHaveLength(1);
      const names = await server.gqlOk('{ metricNames }', {}, server.adminToken);
      expect(names.metricNames).toEqual(expect.arrayContaining(['queue_depth', 'task_failure_percent', 'tasks_running']));
      const before = await eventCount(server);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await eventCount(server)).toBe(before);
    });

    it('should fail tasks with an error once their attempts are used up', async () => {
      const demo = await startDemo(server.app.services, server.url, { tickMs: 20, taskMs: [5, 20], idleMs: 50, failureRate: 1, concurrency: 5 });
      try {
        await expect.poll(async () => (await demoWorkflows(server)).some((w) => w.status === 'FAILED'), { timeout: 10_000, interval: 100 }).toBe(true);
      } finally {
        await demo.stop();
      }
      const failed = (await demoWorkflows(server)).filter((w) => w.status === 'FAILED').flatMap((w) => w.tasks).filter((t) => t.status === 'FAILED');
      expect(failed.length).toBeGreaterThan(0);
      for (const task of failed) {
        expect(task.error).toBeTruthy();
        expect(task.attempts).toBe(task.maxAttempts);
      }
    });
  });
});
