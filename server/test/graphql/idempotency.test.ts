/**
 * Idempotent creation against the real server: a retried `createWorkflow` with the same
 * Idempotency-Key (header over HTTP, input field over WebSocket) answers the first workflow,
 * concurrent duplicates included; another input with the key is CONFLICT; keys are per user;
 * a first try that failed leaves the key free.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../support/live.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: { id: string; token: string };
const CREATE = 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name } }';

async function create(input: Record<string, unknown>, key: string | null, token = member.token) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ query: CREATE, variables: { input } }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

async function workflowsNamed(name: string): Promise<number> {
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  try {
    return (await client.query('select count(*)::int as n from workflows where name = $1', [name])).rows[0].n;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER', 'retrier');
});
afterAll(async () => {
  await server?.stop();
});

describe('Idempotency-Key', () => {
  it('should answer a retried create with the first workflow, and make one', async () => {
    const first = await create({ name: 'retried' }, 'key-1');
    const again = await create({ name: 'retried' }, 'key-1');
    expect(again.body.data.createWorkflow).toEqual(first.body.data.createWorkflow);
    expect(await workflowsNamed('retried')).toBe(1);
    // Without a key, every call creates.
    await create({ name: 'unkeyed' }, null);
    await create({ name: 'unkeyed' }, null);
    expect(await workflowsNamed('unkeyed')).toBe(2);
  });

  it('should make one workflow for ten concurrent duplicates, all answered with it', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => create({ name: 'stampede', tasks: [{ name: 'a' }] }, 'key-stampede')));
    const ids = new Set(answers.map((answer) => answer.body.data?.createWorkflow?.id));
    expect(answers.map((answer) => answer.body.errors)).toEqual(Array(10).fill(undefined));
    expect(ids.size).toBe(1);
    expect(await workflowsNamed('stampede')).toBe(1);
  });

  it('should refuse the key with another input as CONFLICT, and keep keys apart per user', async () => {
    await create({ name: 'original' }, 'key-2');
    const changed = await create({ name: 'changed' }, 'key-2');
    expect(changed.body.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await workflowsNamed('changed')).toBe(0);
    const other = await server.newUser('MEMBER', 'another');
    const theirs = await create({ name: 'original' }, 'key-2', other.token);
    expect(theirs.body.data.createWorkflow.id).toBeTruthy();
    expect(await workflowsNamed('original')).toBe(2);
  });

  it('should leave the key free when the first try failed', async () => {
    const refused = await create({ name: 'cyclic', tasks: [{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }] }, 'key-3');
    expect(refused.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // The failed try's claim rolled back with it: the key takes a corrected input, no CONFLICT.
    const fixed = await create({ name: 'cyclic', tasks: [{ name: 'a', dependsOn: ['b'] }, { name: 'b' }] }, 'key-3');
    expect(fixed.body.data.createWorkflow.name).toBe('cyclic');
    expect(await workflowsNamed('cyclic')).toBe(1);
  });

  it('should refuse a malformed key with BAD_USER_INPUT naming it', async () => {
    const tooLong = await create({ name: 'x' }, 'k'.repeat(256));
    expect(tooLong.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'Idempotency-Key' });
    const viaInput = await create({ name: 'x', idempotencyKey: 'has space' }, null);
    expect(viaInput.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });
    expect(await workflowsNamed('x')).toBe(0);
  });

  it('should take the key from the input over WebSocket, and share it with HTTP', async () => {
    const client = connect(server.url, { token: member.token });
    try {
      const overSocket = async () => {
        const run = client.subscribe<any>(CREATE, { input: { name: 'socket', idempotencyKey: 'key-ws' } });
        const [value] = await run.take(1);
        return value.createWorkflow;
      };
      const first = await overSocket();
      expect(await overSocket()).toEqual(first);
      const overHttp = await create({ name: 'socket' }, 'key-ws');
      expect(overHttp.body.data.createWorkflow).toEqual(first);
      expect(await workflowsNamed('socket')).toBe(1);
    } finally {
      await client.dispose();
    }
  });

  it('should run afresh once the key is older than IDEMPOTENCY_HOURS', async () => {
    await create({ name: 'expiring' }, 'key-old');
    const client = new pg.Client({ connectionString: server.database.url });
    await client.connect();
    await client.query("update idempotency_keys set created_at = now() - interval '25 hours' where key = 'key-old'");
    await client.end();
    await create({ name: 'expiring' }, 'key-old');
    expect(await workflowsNamed('expiring')).toBe(2);
  });
});
