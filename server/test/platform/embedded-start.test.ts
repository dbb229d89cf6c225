/**
 * `npm start` with no settings: the real entry point starts its own PostgreSQL, prints the
 * generated admin once, serves, stops cleanly on Ctrl-C, and reuses the data next time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const { DATABASE_URL: _db, REDIS_URL: _redis, ...baseEnv } = process.env;
let dataDir: string;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string>) {
  const startedAt = performance.now();
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${env.PORT}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    const healthy = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, output: () => output, startupMs: performance.now() - startedAt };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGINT');
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('embedded mode', () => {
  it('should start its own PostgreSQL, stop cleanly on SIGINT and reuse the data on the next start', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wf-embedded-'));
    await chmod(dataDir, 0o755);
    const env = { DATA_DIR: path.join(dataDir, 'data'), PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(await freePort()), DEMO: '0' };

    const first = await start(env);
    console.log(`embedded start to healthy: ${Math.round(first.startupMs)} ms (first start, with initdb)`);
    const credentials = /Admin account created: (\S+) \/ (\S+)/.exec(first.output());
    expect(credentials).not.toBeNull();
    const login = async (url: string) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', variables: { e: credentials![1], p: credentials![2] } }),
      });
      return ((await response.json()) as any).data.login.token as string;
    };
    const token = await login(first.url);
    await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { createWorkflow(input: { name: "survives restarts" }) { id } }' }),
    });
    expect(await stop(first.child)).toBe(0);
    expect(await portOpen(Number(env.EMBEDDED_POSTGRES_PORT))).toBe(false);

    const second = await start(env);
    console.log(`embedded start to healthy: ${Math.round(second.startupMs)} ms (second start)`);
    expect(second.output()).not.toContain('Admin account created');
    const again = await login(second.url);
    const response = await fetch(`${second.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${again}` },
      body: JSON.stringify({ query: '{ workflows { edges { node { name } } } }' }),
    });
    expect(((await response.json()) as any).data.workflows.edges).toEqual([{ node: { name: 'survives restarts' } }]);
    expect(await stop(second.child)).toBe(0);
  }, 60_000);
});
