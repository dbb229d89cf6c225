/**
 * A busy deployment for dashboard layout tests, made through the public API: open alerts with
 * long names and values, a 300-task workflow in several task statuses, and key metrics from two
 * live replicas, one that stopped half an hour ago and one that stopped two hours ago.
 */
import type { TestServer } from './server.js';
import { waitFor } from './wait.js';
import { claim, startedWorkflow } from './workflows.js';

export const BIG_WORKFLOW_TASKS = 300;

const push = (server: TestServer, samples: Array<Record<string, unknown>>) =>
  server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: samples }, server.adminToken);

/** Needs a server evaluating alerts often (`ALERT_EVAL_INTERVAL_SECONDS: '1'`). */
export async function seedBusyDashboard(server: TestServer): Promise<{ bigWorkflowId: string }> {
  const rules = [
    { name: 'Nightly import queue far deeper than it has ever been before', metric: 'queue_depth', threshold: 10, severity: 'CRITICAL', value: 123_456_789.125 },
    { name: 'Task failure share above the agreed service level', metric: 'task_failure_percent', threshold: 5, severity: 'HIGH', value: 99.99 },
    { name: 'Worker backlog', metric: 'tasks_running', threshold: 1, severity: 'LOW', value: 42 },
  ];
  for (const rule of rules) {
    await server.gqlOk('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { name: rule.name, metric: rule.metric, service: 'batch-worker-with-a-long-service-name', comparator: '>', threshold: rule.threshold, forSeconds: 0, severity: rule.severity },
    }, server.adminToken);
  }
  await push(server, rules.map((rule) => ({ name: rule.metric, service: 'batch-worker-with-a-long-service-name', value: rule.value })));
  const firing = await waitFor('three firing alerts', async () => {
    const { alerts } = await server.gqlOk('{ alerts(first: 10, status: [FIRING]) { edges { node { id } } } }', {}, server.adminToken);
    return alerts.edges.length >= rules.length && alerts.edges;
  }, 30_000);
  await server.gqlOk('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: firing[0].node.id }, server.adminToken);

  const tasks = Array.from({ length: BIG_WORKFLOW_TASKS }, (_, i) => ({
    name: `step-${String(i + 1).padStart(3, '0')}`,
    queue: 'layout',
    // Two attempts: a failed one goes back to ready with its error, and the workflow runs on.
    maxAttempts: 2,
    // A chain every tenth task, so some stay pending behind unfinished ones.
    dependsOn: i % 10 === 9 ? [`step-${String(i).padStart(3, '0')}`] : undefined,
  }));
  const big = await startedWorkflow(server, server.adminToken, tasks, 'three hundred steps');
  // 16 succeed, 4 fail once (ready again, error shown), 4 stay running.
  for (let i = 0; i < 24; i++) {
    const task = await claim(server, server.adminToken, 'layout');
    if (!task) break;
    if (i < 16) await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task.id }, server.adminToken);
    else if (i < 20) await server.gqlOk('mutation ($id: ID!, $e: String!) { failTask(id: $id, error: $e) { id } }', { id: task.id, e: `ETIMEDOUT: the upstream at https://warehouse.internal.example/api/v2/exports/${i} did not answer within 30 s` }, server.adminToken);
  }

  const now = Date.now();
  const metrics = ['cpu_percent', 'memory_percent', 'response_time_p95_ms', 'error_rate_percent', 'db_connections_percent'];
  const samples = metrics.flatMap((name, n) => [
    ...['replica-a', 'replica-b'].flatMap((instance, r) =>
      Array.from({ length: 20 }, (_, i) => ({ name, service: 'api', instance, value: 10 + n * 5 + r * 3 + (i % 5), time: new Date(now - (20 - i) * 30_000).toISOString() })),
    ),
    // One that stopped half an hour ago: in the overview's hour, but with no current value.
    ...Array.from({ length: 10 }, (_, i) => ({ name, service: 'api', instance: 'replica-stopped', value: 20 + i, time: new Date(now - 40 * 60_000 + i * 30_000).toISOString() })),
    // A replica that ran two hours ago and is gone: outside the overview's hour.
    ...Array.from({ length: 10 }, (_, i) => ({ name, service: 'api', instance: 'replica-gone', value: 30 + i, time: new Date(now - 2 * 3600_000 - i * 30_000).toISOString() })),
  ]);
  await push(server, samples);
  return { bigWorkflowId: big.id };
}
