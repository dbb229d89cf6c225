import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, getWorkflow, newWorkflow, startedWorkflow, WORKFLOW_FIELDS } from '../support/workflows.js';

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = (await server.newUser('MEMBER')).token;
});
afterAll(() => server?.stop());

const complete = (id: string) => server.gql('mutation ($id: ID!) { completeTask(id: $id) { id status durationMs } }', { id }, token);
const fail = (id: string, error = 'boom') =>
  server.gql('mutation ($id: ID!, $e: String!) { failTask(id: $id, error: $e) { id status attempts error } }', { id, e: error }, token);
const retry = (id: string) => server.gql('mutation ($id: ID!) { retryTask(id: $id) { id status attempts maxAttempts error } }', { id }, token);

describe('task lifecycle', () => {
  it('should create a DRAFT workflow whose tasks wait as PENDING', async () => {
    const workflow = await newWorkflow(server, token, [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }]);
    expect(workflow.status).toBe('DRAFT');
    expect(workflow.tasks.map((t: any) => [t.name, t.status, t.dependsOn.map((d: any) => d.name)])).toEqual([
      ['a', 'PENDING', []],
      ['b', 'PENDING', ['a']],
    ]);
    expect(workflow.taskCounts).toMatchObject({ pending: 2, total: 2 });
  });

  it('should ready tasks without dependencies on start, run them in dependency order, and succeed', async () => {
    const workflow = await startedWorkflow(server, token, [{ name: 'a', queue: 'q-order' }, { name: 'b', dependsOn: ['a'], queue: 'q-order' }]);
    expect(workflow.status).toBe('PENDING');
    expect(workflow.startedAt).toBeTruthy();
    expect(workflow.tasks.map((t: any) => t.status)).toEqual(['READY', 'PENDING']);

    const first = await claim(server, token, 'q-order');
    expect(first).toMatchObject({ name: 'a', status: 'RUNNING', attempts: 1 });
    expect((await getWorkflow(server, token, workflow.id)).status).toBe('RUNNING');
    expect(await claim(server, token, 'q-order')).toBeNull();

    const done = await complete(first!.id);
    expect(done.data.completeTask.status).toBe('SUCCEEDED');
    expect(done.data.completeTask.durationMs).toBeGreaterThanOrEqual(0);

    const second = await claim(server, token, 'q-order');
    expect(second?.name).toBe('b');
    await complete(second!.id);
    const finished = await getWorkflow(server, token, workflow.id);
    expect(finished.status).toBe('SUCCEEDED');
    expect(finished.finishedAt).toBeTruthy();
    expect(finished.taskCounts).toMatchObject({ succeeded: 2, total: 2 });
  });

  it('should succeed at once when started with no tasks', async () => {
    const workflow = await startedWorkflow(server, token, []);
    expect(workflow.status).toBe('SUCCEEDED');
  });

  it('should put a failed task back to READY while attempts remain, then fail it and the workflow', async () => {
    const workflow = await startedWorkflow(server, token, [{ name: 'flaky', maxAttempts: 2, queue: 'q-retry' }, { name: 'after', dependsOn: ['flaky'], queue: 'q-retry' }]);
    const attempt1 = await claim(server, token, 'q-retry');
    const failed1 = await fail(attempt1!.id, 'first');
    expect(failed1.data.failTask).toMatchObject({ status: 'READY', attempts: 1, error: 'first' });

    const attempt2 = await claim(server, token, 'q-retry');
    expect(attempt2).toMatchObject({ id: attempt1!.id, attempts: 2 });
    const failed2 = await fail(attempt2!.id, 'second');
    expect(failed2.data.failTask).toMatchObject({ status: 'FAILED', attempts: 2, error: 'second' });

    const after = await getWorkflow(server, token, workflow.id);
    expect(after.status).toBe('FAILED');
    expect(after.tasks.map((t: any) => t.status)).toEqual(['FAILED', 'CANCELLED']);
    expect(await claim(server, token, 'q-retry')).toBeNull();
  });

  it('should reopen a failed workflow when a task is retried, and finish it', async () => {
    const workflow = await startedWorkflow(server, token, [{ name: 'x', queue: 'q-reopen' }, { name: 'y', dependsOn: ['x'], queue: 'q-reopen' }]);
    const task = await claim(server, token, 'q-reopen');
    await fail(task!.id);
    const retried = await retry(task!.id);
    // a fresh attempt, numbered on: attempt 2 of 2
    expect(retried.data.retryTask).toMatchObject({ status: 'READY', attempts: 1, maxAttempts: 2, error: null });
    const reopened = await getWorkflow(server, token, workflow.id);
    expect(reopened.status).toBe('RUNNING');
    expect(reopened.tasks.map((t: any) => t.status)).toEqual(['READY', 'PENDING']);

    await complete((await claim(server, token, 'q-reopen'))!.id);
    await complete((await claim(server, token, 'q-reopen'))!.id);
    expect((await getWorkflow(server, token, workflow.id)).status).toBe('SUCCEEDED');
  });

  it('should cancel a running workflow and every unfinished task', async () => {
    const workflow = await startedWorkflow(server, token, [{ name: 'r', queue: 'q-cancel' }, { name: 's', queue: 'q-cancel' }]);
    const running = await claim(server, token, 'q-cancel');
    const cancelled = await server.gqlOk(`mutation ($id: ID!) { cancelWorkflow(id: $id) { ${WORKFLOW_FIELDS} } }`, { id: workflow.id }, token);
    expect(cancelled.cancelWorkflow.status).toBe('CANCELLED');
    expect(cancelled.cancelWorkflow.tasks.map((t: any) => t.status)).toEqual(['CANCELLED', 'CANCELLED']);
    const late = await complete(running!.id);
    expect(late.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('should refuse invalid transitions with CONFLICT', async () => {
    const draft = await newWorkflow(server, token, [{ name: 'only', queue: 'q-conflict' }]);
    const task = draft.tasks[0];
    for (const result of [await complete(task.id), await fail(task.id), await retry(task.id)]) {
      expect(result.errors?.[0].extensions?.code).toBe('CONFLICT');
    }
    await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: draft.id }, token);
    const again = await server.gql('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: draft.id }, token);
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(again.errors?.[0].message).toMatch(/PENDING/);

    const claimed = await claim(server, token, 'q-conflict');
    await complete(claimed!.id);
    const twice = await complete(claimed!.id);
    expect(twice.errors?.[0].extensions?.code).toBe('CONFLICT');
    const cancelFinished = await server.gql('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: draft.id }, token);
    expect(cancelFinished.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('should delete a workflow with its tasks', async () => {
    const workflow = await newWorkflow(server, token, [{ name: 'a' }]);
    const deleted = await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: workflow.id }, token);
    expect(deleted.deleteWorkflow).toBe(workflow.id);
    expect(await getWorkflow(server, token, workflow.id)).toBeNull();
    const task = await server.gqlOk('query ($id: ID!) { task(id: $id) { id } }', { id: workflow.tasks[0].id }, token);
    expect(task.task).toBeNull();
    const again = await server.gql('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: workflow.id }, token);
    expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
