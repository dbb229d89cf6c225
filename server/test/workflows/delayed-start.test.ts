/**
 * Delayed starts against the real server: startWorkflow(id, at) keeps the workflow DRAFT with
 * `scheduledFor` until `at`, when a replica's look starts it; it can be cancelled before; the
 * time is stored, so a replica stopped and another started on the same database still starts
 * it; bad times are BAD_USER_INPUT naming `at`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { newWorkflow } from '../support/workflows.js';

const DELAYED = 'mutation ($id: ID!, $at: DateTime) { startWorkflow(id: $id, at: $at) { id status scheduledFor startedAt tasks { status } } }';
const READ = 'query ($id: ID!) { workflow(id: $id) { status scheduledFor tasks { status } } }';
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('delayed start', () => {
  let server: TestServer;
  let member: { token: string };

  it('should keep the workflow DRAFT until `at`, then start it', async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', SCHEDULER_INTERVAL_MS: '100' });
    stops.push(() => server.stop());
    member = await server.newUser('MEMBER', 'delayer');
    const workflow = await newWorkflow(server, member.token, [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }], 'later');
    const at = inMs(1500);
    const delayed = (await server.gqlOk(DELAYED, { id: workflow.id, at }, member.token)).startWorkflow;
    expect(delayed).toMatchObject({ status: 'DRAFT', scheduledFor: at, startedAt: null });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await server.gqlOk(READ, { id: workflow.id }, member.token)).workflow.status).toBe('DRAFT');
    const started = await waitFor('the delayed start', async () => {
      const { workflow: now } = await server.gqlOk(READ, { id: workflow.id }, member.token);
      return now.status === 'PENDING' ? now : null;
    }, 10_000, 100);
    expect(started).toEqual({ status: 'PENDING', scheduledFor: at, tasks: [{ status: 'READY' }, { status: 'PENDING' }] });
  });

  it('should let a delayed start be cancelled, or started early, before its time', async () => {
    const cancelled = await newWorkflow(server, member.token, [{ name: 'a' }], 'cancel me');
    await server.gqlOk(DELAYED, { id: cancelled.id, at: inMs(800) }, member.token);
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: cancelled.id }, member.token);
    const early = await newWorkflow(server, member.token, [{ name: 'a' }], 'early');
    await server.gqlOk(DELAYED, { id: early.id, at: inMs(60_000) }, member.token);
    expect((await server.gqlOk(DELAYED, { id: early.id }, member.token)).startWorkflow.status).toBe('PENDING');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await server.gqlOk(READ, { id: cancelled.id }, member.token)).workflow.status).toBe('CANCELLED');
    expect((await server.gqlOk(READ, { id: early.id }, member.token)).workflow.status).toBe('PENDING');
  });

  it('should refuse a time in the past or too far ahead, and a workflow already started', async () => {
    const workflow = await newWorkflow(server, member.token, [], 'bad times');
    for (const at of [inMs(-1000), inMs(367 * 86_400_000)]) {
      const refused = await server.gql(DELAYED, { id: workflow.id, at }, member.token);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'at' });
    }
    expect((await server.gql(DELAYED, { id: workflow.id, at: 'tomorrow' }, member.token)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    await server.gqlOk(DELAYED, { id: workflow.id }, member.token);
    expect((await server.gql(DELAYED, { id: workflow.id, at: inMs(60_000) }, member.token)).errors?.[0].extensions?.code).toBe('CONFLICT');
    const other = await server.newUser('MEMBER', 'stranger');
    const hidden = await newWorkflow(server, member.token, [], 'hidden');
    expect((await server.gql(DELAYED, { id: hidden.id, at: inMs(60_000) }, other.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('should start it after a restart: the time is stored, not held in memory', async () => {
    const database = await createTestDatabase();
    stops.push(() => database.drop());
    const before = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', SCHEDULER_INTERVAL_MS: '100' }, database);
    const owner = await before.newUser('MEMBER', 'restarter');
    const workflow = await newWorkflow(before, owner.token, [{ name: 'a' }], 'across a restart');
    await before.gqlOk(DELAYED, { id: workflow.id, at: inMs(1500) }, owner.token);
    await before.stop();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // Due while no replica ran: the next one to start picks it up.
    const after = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', SCHEDULER_INTERVAL_MS: '100' }, database);
    stops.push(() => after.stop());
    await waitFor('the start after the restart', async () => (await after.gqlOk(READ, { id: workflow.id }, after.adminToken)).workflow.status === 'PENDING', 10_000, 100);
  });
});
