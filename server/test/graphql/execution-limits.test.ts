/**
 * One signed-in query must not knock a replica over: nested lists over a workflow of 1,000
 * tasks are refused by the cost estimate or stopped by the size limit while the answer is
 * built; the replica (a real server process, its heap capped) stays small and healthy; a
 * query waiting too long is answered at its time limit; and one whose client hung up (over
 * HTTP, or with `complete` over WebSocket) stops: nothing more is loaded for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { postGraphQL } from '../support/hostile.js';
import { signedInSocket } from '../support/live.js';
import { freePort } from '../support/ports.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { waitFor } from '../support/wait.js';

const TASKS = 1_000;
/** Each task depends on the one before: a workflow as large as the limits allow. */
const BIG_WORKFLOW = {
  name: 'big',
  tasks: Array.from({ length: TASKS }, (_, i) => ({ name: `t${i}`, ...(i ? { dependsOn: [`t${i - 1}`] } : {}) })),
};
const CREATE = 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }';

/** The process's resident memory; 0 once it is gone (which the test reports on its own). */
function residentBytes(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('nested lists over a workflow of 1,000 tasks, against a server process', () => {
  let database: TestDatabase;
  let child: ChildProcess;
  let url: string;
  let token: string;
  let workflowId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    const { DATABASE_URL: _db, REDIS_URL: _redis, ...baseEnv } = process.env;
    // A heap far below the gigabytes the unbounded answers took: exceeding it ends the process.
    child = spawn(process.execPath, ['--max-old-space-size=768', '--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      env: {
        ...baseEnv, DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password,
        DEMO: '0', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0', SAMPLE_INTERVAL_SECONDS: '3600', ALERT_EVAL_INTERVAL_SECONDS: '3600',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    url = `http://127.0.0.1:${port}`;
    await waitFor('the server to serve', async () => child.exitCode === null && (await fetch(`${url}/api/ready`).then((r) => r.ok, () => false)), 30_000);
    const login = await gql(url, 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: ADMIN.email, p: ADMIN.password });
    token = login.body.data.login.token;
    const created = await gql(url, CREATE, { input: BIG_WORKFLOW }, token);
    workflowId = created.body.data.createWorkflow.id;
  }, 90_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await database?.drop();
  });

  it('should refuse or cut short every nested query, stay small and keep answering its health check', async () => {
    const refusedByCost = [
      // The query of the report: 1,000 × 1,000 × 1,000 tasks.
      'query ($id: ID!) { workflow(id: $id) { tasks { workflow { tasks { workflow { tasks { id } } } } } } }',
      '{ workflows(first: 100) { edges { node { tasks { workflow { tasks { workflow { id } } } } } } } }',
      'query ($id: ID!) { workflow(id: $id) { tasks { dependsOn { dependsOn { id } } } } }',
    ];
    // Within the estimate (about a million fields), but its answer would be ~50 MB.
    const tooLarge = 'query ($id: ID!) { workflow(id: $id) { tasks { workflow { tasks { id } } } } }';

    const baseline = residentBytes(child.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(child.pid!))), 50);
    // Health is asked all along, while the heavy queries run.
    const healthChecks: number[] = [];
    let hammering = true;
    const health = (async () => {
      while (hammering) {
        const started = performance.now();
        expect((await fetch(`${url}/api/health`)).status).toBe(200);
        healthChecks.push(performance.now() - started);
      }
    })();
    try {
      const answers = await Promise.all([
        ...refusedByCost.flatMap((query) => [1, 2].map(() => gql(url, query, { id: workflowId }, token))),
        ...[1, 2, 3].map(() => gql(url, tooLarge, { id: workflowId }, token)),
      ]);
      for (const { status, body } of answers.slice(0, refusedByCost.length * 2)) {
        expect(status).toBe(400);
        expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'QUERY_MAX_COST' });
      }
      for (const { status, body } of answers.slice(refusedByCost.length * 2)) {
        expect(status).toBe(413);
        expect(body.data).toBeUndefined();
        expect(body.errors).toHaveLength(1);
        expect(body.errors[0].extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 'MAX_RESPONSE_BYTES' });
        expect(body.errors[0].message).toContain('MAX_RESPONSE_BYTES');
      }
    } finally {
      hammering = false;
      await health;
      clearInterval(sampler);
    }
    expect(child.exitCode).toBeNull();
    expect(healthChecks.length).toBeGreaterThan(0);
    // Generous: the unbounded answers grew a replica by gigabytes.
    expect(peak - baseline).toBeLessThan(400 * 1024 * 1024);

    // Still whole: the dashboard's own view of the workflow is answered in full.
    const detail = await gql(url, 'query ($id: ID!) { workflow(id: $id) { name tasks { id name status dependsOn { id name } } } }', { id: workflowId }, token);
    expect(detail.body.errors).toBeUndefined();
    expect(detail.body.data.workflow.tasks).toHaveLength(TASKS);
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
  }, 120_000);
});

/** Statements of the server's database running now (`condition` narrows them), as `pg_stat_activity` shows them. */
async function statements(client: pg.Client, server: TestServer, condition = 'true'): Promise<number> {
  const name = new URL(server.database.url).pathname.slice(1);
  // Inside a transaction (the lock's) the view would show the snapshot taken at its first read.
  await client.query('select pg_stat_clear_snapshot()');
  const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid() and ${condition}`, [name]);
  return rows[0].n;
}

async function activeStatements(server: TestServer): Promise<number> {
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  try {
    return await statements(client, server);
  } finally {
    await client.end();
  }
}

/** Holds an exclusive lock on `table` of the server's database, so statements reading it wait. */
async function lockTable(server: TestServer, table: string) {
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  await client.query('begin');
  await client.query(`lock table ${table} in access exclusive mode`);
  return {
    /** the server's statements waiting for the lock */
    waiting: () => statements(client, server, `wait_event_type = 'Lock'`),
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

/** Open connections of the server's HTTP listener. */
function connections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** A query on its way: its answer (null when there is none), and how its client gives up on it. */
interface Sent {
  reply: Promise<any>;
  giveUp(): Promise<void>;
}

describe('time limit and abandoned queries', () => {
  let server: TestServer;
  let workflowId: string;
  // The workflow, then its tasks (locked below), then the owner: one statement after another.
  const QUERY = 'query ($id: ID!) { workflow(id: $id) { tasks { name workflow { owner { name } } } } }';
  const readsUsers = (sql: string[]) => sql.some((statement) => /from users where id = any/.test(statement));

  beforeAll(async () => {
    server = await startTestServer({ QUERY_TIMEOUT_MS: '60000', RATE_LIMIT_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0' });
    const member = await server.newUser('MEMBER', 'owner');
    const data = await server.gqlOk(CREATE, { input: { name: 'chain', tasks: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] } }, member.token);
    workflowId = data.createWorkflow.id;
  });
  afterAll(() => server?.stop());

  function overHttp(): Sent {
    const body = JSON.stringify({ query: QUERY, variables: { id: workflowId } });
    // Its own connection, so the server sees it close when the client gives up.
    const req = request(`${server.url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${server.adminToken}` },
    });
    const reply = new Promise((resolve) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', () => resolve(null));
    });
    req.end(body);
    return {
      reply,
      async giveUp() {
        const open = await connections(server);
        req.destroy();
        await waitFor('the server to see the connection close', async () => (await connections(server)) < open, 5_000, 10);
      },
    };
  }

  async function overSocket(): Promise<Sent> {
    const { socket, received } = await signedInSocket(server.url, server.adminToken);
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: QUERY, variables: { id: workflowId } } }));
    let gaveUp = false;
    const reply = waitFor('the answer', async () => gaveUp || received.find((m) => m.type === 'next'), 30_000, 10).then((m) => (m === true ? null : m.payload));
    return {
      reply: reply.finally(() => socket.close()),
      async giveUp() {
        socket.send(JSON.stringify({ id: 'q', type: 'complete' }));
        // Messages are handled in order: once the pong is back, so is the complete.
        socket.send(JSON.stringify({ type: 'ping' }));
        await waitFor('the pong', async () => received.some((m) => m.type === 'pong'), 5_000, 10);
        gaveUp = true;
      },
    };
  }

  /** Sends QUERY while the tasks are locked, gives up on it (or not) once it waits, then releases the lock. */
  async function blockedQuery(send: () => Sent | Promise<Sent>, giveUp: boolean) {
    const lock = await lockTable(server, 'tasks');
    let reply: unknown;
    const { sql } = await countStatements(server.app, async () => {
      let sent: Sent | undefined;
      try {
        sent = await send();
        await waitFor('the query to wait for the lock', async () => (await lock.waiting()) > 0, 10_000, 20);
        if (giveUp) await sent.giveUp();
      } finally {
        await lock.release();
      }
      reply = await sent.reply;
      // No statement of it left in PostgreSQL either.
      await waitFor('the server to go quiet', async () => (await activeStatements(server)) === 0, 10_000, 20);
      // A query still running sends its next statement within milliseconds of the lock's release.
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    return { sql, reply: reply as any };
  }

  it('should load everything for a client that waits (the control case)', async () => {
    for (const send of [overHttp, overSocket]) {
      const { sql, reply } = await blockedQuery(send, false);
      expect(reply.data.workflow.tasks).toHaveLength(2);
      expect(readsUsers(sql)).toBe(true);
    }
  });

  it('should stop a query whose client hung up: no resolver or statement runs for it afterwards', async () => {
    const { sql, reply } = await blockedQuery(overHttp, true);
    expect(reply).toBeNull();
    // The statement that waited on the lock was its last: the owners were never loaded.
    expect(readsUsers(sql)).toBe(false);
    expect((await server.gql('{ viewer { email } }', {}, server.adminToken)).data.viewer.email).toBe(ADMIN.email);
  });

  it('should stop a query over WebSocket when the client sends complete', async () => {
    const { sql, reply } = await blockedQuery(overSocket, true);
    expect(reply).toBeNull();
    expect(readsUsers(sql)).toBe(false);
  });

  it('should answer a query stuck past QUERY_TIMEOUT_MS with QUERY_TIMEOUT, without waiting for the database', async () => {
    const quick = await startTestServer({ QUERY_TIMEOUT_MS: '300', RATE_LIMIT_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0' }, server.database);
    const lock = await lockTable(quick, 'tasks');
    try {
      const response = await postGraphQL(quick, { query: QUERY, variables: { id: workflowId } }, quick.adminToken);
      // Answered while its statement still waits: the lock is held until after the answer.
      expect(await lock.waiting()).toBeGreaterThan(0);
      expect(response.status).toBe(400);
      expect(response.json().errors).toEqual([
        expect.objectContaining({ message: expect.stringContaining('QUERY_TIMEOUT_MS'), extensions: expect.objectContaining({ code: 'QUERY_TIMEOUT', max: 300 }) }),
      ]);
    } finally {
      await lock.release();
      await quick.stop();
    }
  });
});
