/** Factories for workflows through the public API, as a user would make them. */
import type { TestServer } from './server.js';

export interface TaskSpec {
  name: string;
  dependsOn?: string[];
  queue?: string;
  maxAttempts?: number;
  heartbeatTimeoutSeconds?: number;
  timeoutSeconds?: number;
  priority?: number;
}

export const WORKFLOW_FIELDS = 'id name status startedAt finishedAt tasks { id name status attempts maxAttempts error queue dependsOn { name } } taskCounts { pending ready running succeeded failed cancelled total }';

export async function newWorkflow(server: TestServer, token: string, tasks: TaskSpec[] = [{ name: 'only' }], name = 'workflow') {
  const data = await server.gqlOk(
    `mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ${WORKFLOW_FIELDS} } }`,
    { input: { name, tasks } },
    token,
  );
  return data.createWorkflow;
}

export async function startedWorkflow(server: TestServer, token: string, tasks?: TaskSpec[], name?: string) {
  const created = await newWorkflow(server, token, tasks, name);
  const data = await server.gqlOk(`mutation ($id: ID!) { startWorkflow(id: $id) { ${WORKFLOW_FIELDS} } }`, { id: created.id }, token);
  return data.startWorkflow;
}

export async function claim(server: TestServer, token: string, queue?: string) {
  const data = await server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { id name status attempts } }', { q: queue ?? null }, token);
  return data.claimTask as { id: string; name: string; status: string; attempts: number } | null;
}

export async function getWorkflow(server: TestServer, token: string, id: string) {
  return (await server.gqlOk(`query ($id: ID!) { workflow(id: $id) { ${WORKFLOW_FIELDS} } }`, { id }, token)).workflow;
}
