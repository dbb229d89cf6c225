/**
 * The workflow_tasks_* gauges on /api/metrics of a real server: what they count, one statement
 * per scrape, a bounded number of queue labels, and drained queues reported as 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUEUE_LABELS, OTHER_QUEUE } from '../../src/observability/prometheus.js';
import { scrape } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { startedWorkflow, type TaskSpec } from '../support/workflows.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const claimFrom = async (queue: string) =>
  (await server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { id } }', { q: queue }, server.adminToken)).claimTask as { id: string };
const sample = (samples: Map<string, number>, metric: string, queue: string) => samples.get(`${metric}{queue="${queue}"}`);
/** Every queue label of one metric, with its value. */
const byQueue = (samples: Map<string, number>, metric: string) =>
  new Map([...samples].flatMap(([key, value]) => {
    const match = new RegExp(`^${metric}\\{queue="([^"]*)"\\}$`).exec(key);
    return match ? [[match[1], value] as const] : [];
  }));

describe('queue backlog gauges', () => {
  it('should report ready, running, delayed and the oldest ready age by queue', async () => {
    await startedWorkflow(server, server.adminToken, [
      { name: 'a', queue: 'm-ready' }, { name: 'b', queue: 'm-ready' },
      { name: 'c', queue: 'm-busy' }, { name: 'd', queue: 'm-busy', maxAttempts: 2, retry: { initialIntervalSeconds: 60 } } as TaskSpec,
    ]);
    await claimFrom('m-busy');
    const d = await claimFrom('m-busy');
    await server.gqlOk('mutation ($id: ID!) { failTask(id: $id, error: "later") { id } }', { id: d.id }, server.adminToken);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const samples = await scrape(server.url);
    expect(sample(samples, 'workflow_tasks_ready', 'm-ready')).toBe(2);
    expect(sample(samples, 'workflow_tasks_running', 'm-ready')).toBe(0);
    expect(sample(samples, 'workflow_tasks_ready', 'm-busy')).toBe(0);
    expect(sample(samples, 'workflow_tasks_running', 'm-busy')).toBe(1);
    expect(sample(samples, 'workflow_tasks_delayed', 'm-busy')).toBe(1);
    expect(sample(samples, 'workflow_task_oldest_ready_age_seconds', 'm-ready')).toBeGreaterThanOrEqual(1);
    expect(sample(samples, 'workflow_task_oldest_ready_age_seconds', 'm-busy')).toBe(0);
    expect(samples.has('workflow_task_queue_reads_total')).toBe(true);
  });

  it('should cost one statement per scrape, whatever the number of gauges', async () => {
    // A second apart, so the scrape does not reuse the previous test's read.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { count, sql } = await countStatements(server.app, () => scrape(server.url));
    expect(count, sql.join('\n')).toBe(1);
    expect(sql[0]).toMatch(/from tasks t/);
  });

  it('should keep a drained queue at 0 instead of dropping it', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [{ name: 'only', queue: 'm-drain' }]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(sample(await scrape(server.url), 'workflow_tasks_ready', 'm-drain')).toBe(1);
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, server.adminToken);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const samples = await scrape(server.url);
    expect(sample(samples, 'workflow_tasks_ready', 'm-drain')).toBe(0);
    expect(sample(samples, 'workflow_tasks_running', 'm-drain')).toBe(0);
  });

  it(`should label at most ${MAX_QUEUE_LABELS} queues, the busiest, and sum the rest under ${OTHER_QUEUE}`, async () => {
    // 150 queues: queue i has i % 3 + 1 ready tasks.
    const tasks: TaskSpec[] = Array.from({ length: 150 }, (_, i) => Array.from({ length: (i % 3) + 1 }, (_, k) => ({ name: `t${i}-${k}`, queue: `m-many-${i}` }))).flat();
    await startedWorkflow(server, server.adminToken, tasks);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const ready = byQueue(await scrape(server.url), 'workflow_tasks_ready');
    expect(ready.size).toBeLessThanOrEqual(MAX_QUEUE_LABELS + 1);
    expect(ready.has(OTHER_QUEUE)).toBe(true);
    const total = (await server.gqlOk('{ taskQueues { ready } }', {}, server.adminToken)).taskQueues.reduce((sum: number, q: { ready: number }) => sum + q.ready, 0);
    expect([...ready.values()].reduce((sum, v) => sum + v, 0)).toBe(total);
    // The busiest (3 ready) all have a label of their own.
    for (let i = 2; i < 150; i += 3) expect(ready.get(`m-many-${i}`), `m-many-${i}`).toBe(3);
  });
});
