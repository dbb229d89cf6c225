/**
 * The worker bench/worker-death.ts kills: told a server, token and queue over IPC, it claims
 * one task and heart-beats it at a third of its heartbeatTimeoutSeconds (as the SDK does),
 * reporting the claim to its parent, until it is SIGKILLed.
 */
import { postGraphQL } from './processes.js';

interface Orders {
  url: string;
  token: string;
  queue: string;
}

const gql = (orders: Orders, query: string, variables: Record<string, unknown>) =>
  postGraphQL({ url: orders.url, headers: { 'content-type': 'application/json', authorization: `Bearer ${orders.token}` } }, query, variables);

process.once('message', async (orders: Orders) => {
  let task: { id: string; attempts: number; heartbeatTimeoutSeconds: number } | null = null;
  while (!task) {
    task = (await gql(orders, 'mutation ($q: String) { claimTask(queue: $q, workerId: "doomed") { id attempts heartbeatTimeoutSeconds } }', { q: orders.queue })).claimTask;
    if (!task) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.send!({ claimed: task.id });
  const beat = () =>
    gql(orders, 'mutation ($id: ID!, $a: Int!) { heartbeatTask(id: $id, attempt: $a) { id } }', { id: task!.id, a: task!.attempts }).catch(() => undefined);
  setInterval(beat, (task.heartbeatTimeoutSeconds * 1000) / 3);
});
