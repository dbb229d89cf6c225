/**
 * `npm start` with no settings: the real entry point starts its own PostgreSQL, prints the
 * generated admin once, serves, stops cleanly on Ctrl-C, and reuses the data next time —
 * also as root from a private home, and when Ctrl-C reaches the whole process group.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, lstat, mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED_ROOT } from '../../src/db/embedded-postgres.js';

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

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const { DATABASE_URL: _db, REDIS_URL: _redis, DATA_DIR: _data, ...baseEnv } = process.env;
const cleanups: Array<() => Promise<unknown>> = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  // A server stopped cleanly stops its PostgreSQL too (killed outright, it would leave it running).
  await Promise.all(children.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    return new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')).finally(() => clearTimeout(timer));
  }));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(prefix: string, mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, mode);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Started {
  child: ChildProcess;
  url: string;
  output(): string;
  startupMs: number;
}

/** The server's entry point (from source; compiled-start.test.ts runs the compiled one); `detached` makes it a process group leader, as a terminal's foreground job is. */
function launch(env: Record<string, string>, options: { cwd?: string; detached?: boolean } = {}) {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
    cwd: options.cwd ?? SERVER_DIR,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached,
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function start(env: Record<string, string>, options: { cwd?: string; detached?: boolean } = {}): Promise<Started> {
  const startedAt = performance.now();
  const { child, output } = launch(env, options);
  const url = `http://127.0.0.1:${env.PORT}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output()}`);
    const healthy = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, output, startupMs: performance.now() - startedAt };
}

async function stop(child: ChildProcess, signal: () => void = () => child.kill('SIGINT')): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  signal();
  return exited;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function adminCredentials(output: string): { email: string; password: string } {
  const credentials = /Admin account created: (\S+) \/ (\S+)/.exec(output);
  expect(credentials).not.toBeNull();
  return { email: credentials![1], password: credentials![2] };
}

async function login(url: string, { email, password }: { email: string; password: string }): Promise<string> {
  const data = await gql(url, 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password });
  return data.login.token;
}

async function ports() {
  return { PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(await freePort()) };
}

/** Starts, writes a workflow, stops on SIGINT, starts again and reads the workflow back. */
async function survivesRestart(env: Record<string, string>, options: { cwd?: string } = {}): Promise<string> {
  const first = await start(env, options);
  console.log(`embedded start to healthy: ${Math.round(first.startupMs)} ms (first start, with initdb)`);
  const admin = adminCredentials(first.output());
  const token = await login(first.url, admin);
  await gql(first.url, 'mutation { createWorkflow(input: { name: "survives restarts" }) { id } }', {}, token);
  expect(await stop(first.child)).toBe(0);
  expect(await portOpen(Number(env.EMBEDDED_POSTGRES_PORT))).toBe(false);

  const second = await start(env, options);
  console.log(`embedded start to healthy: ${Math.round(second.startupMs)} ms (second start)`);
  expect(second.output()).not.toContain('Admin account created');
  const data = await gql(second.url, '{ workflows { edges { node { name } } } }', {}, await login(second.url, admin));
  expect(data.workflows.edges).toEqual([{ node: { name: 'survives restarts' } }]);
  expect(await stop(second.child)).toBe(0);
  return first.output();
}

const asRoot = process.getuid?.() === 0;

describe('embedded mode', () => {
  it('should start its own PostgreSQL, stop cleanly on SIGINT and reuse the data on the next start', async () => {
    const dataDir = await tempDir('wf-embedded-', 0o755);
    await survivesRestart({ DATA_DIR: path.join(dataDir, 'data'), ...(await ports()), DEMO: '0' });
  }, 60_000);

  it(asRoot
    ? 'should start as root from a clone in a private home (mode 0700) the postgres user cannot enter, and keep the data'
    : 'as root from a private home: skipped, the tests do not run as root', async (context) => {
    if (!asRoot) return context.skip();
    // A clone under a private home: hard links of the repository's files, so the binaries in
    // node_modules are out of the postgres user's reach too.
    const home = await tempDir('wf-private-home-', 0o700);
    const repository = path.dirname(SERVER_DIR);
    const clone = path.join(home, 'workflow-factory');
    const entries = (await readdir(repository)).filter((name) => name !== '.git').map((name) => path.join(repository, name));
    execFileSync('mkdir', [clone]);
    execFileSync('cp', ['-al', ...entries, clone]);
    const serverDir = path.join(clone, 'server');
    const dataDir = path.join(serverDir, '.data'); // the default DATA_DIR
    const link = path.join(dataDir, 'postgres');
    cleanups.push(async () => {
      const target = await readlink(link).catch(() => null);
      if (target?.startsWith(SHARED_ROOT)) await rm(target, { recursive: true, force: true });
    });

    const output = await survivesRestart({ ...(await ports()), DEMO: '0' }, { cwd: serverDir });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const cluster = await readlink(link);
    expect(cluster.startsWith(path.join(SHARED_ROOT, 'clusters'))).toBe(true);
    expect((await stat(cluster)).uid).toBe(Number(execFileSync('id', ['-u', 'postgres'])));
    expect(output).toContain(`data in ${cluster}`);
  }, 120_000);

  it('should stop with one line saying what to do when DATA_DIR cannot be made', async () => {
    const { exited, output } = launch({ DATA_DIR: '/dev/null/data', ...(await ports()) });
    expect(await exited).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DATA_DIR=\/dev\/null\/data cannot be created .*: set DATA_DIR to/);
  });

  it('should own its database on Ctrl-C: SIGINT to the whole process group, then a second start is healthy with no replica down and no alert', async () => {
    const dataDir = await tempDir('wf-ctrl-c-', 0o755);
    const env = { DATA_DIR: dataDir, ...(await ports()), DEMO: '0', SAMPLE_INTERVAL_SECONDS: '1', ALERT_EVAL_INTERVAL_SECONDS: '1' };
    const first = await start(env, { detached: true });
    const admin = adminCredentials(first.output());
    // Its heartbeat is written: this replica is one the next start could mistake for a ghost.
    const before = await gql(first.url, '{ health { instance components { name status } } }');
    expect(before.health.components).toContainEqual({ name: `replica:${before.health.instance}`, status: 'up' });
    const stoppedAt = Date.now();
    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    expect(await stop(first.child, () => process.kill(-first.child.pid!, 'SIGINT'))).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);

    const second = await start(env, { detached: true });
    const token = await login(second.url, admin);
    // A ghost would turn down once its heartbeat is older than the deadline (3 samples + 5 s),
    // and the evaluator (every second) would then open "A component down".
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + 11_000 - Date.now())));
    const { health } = await gql(second.url, '{ health { status instance components { name status } } }');
    expect(health.components.filter((c: { name: string }) => c.name.startsWith('replica:'))).toEqual([{ name: `replica:${health.instance}`, status: 'up' }]);
    expect(health.status).toBe('healthy');
    const http = (await (await fetch(`${second.url}/api/health`)).json()) as { status: string };
    expect(http.status).toBe(health.status);
    // Only health alerts count here: a loaded machine (CI) may rightly open "CPU above 80 %".
    const { alerts } = await gql(second.url, '{ alerts(first: 50) { totalCount edges { node { status rule { name metric } } } } }', {}, token);
    expect(alerts.edges.filter((e: { node: { rule: { metric: string } } }) => e.node.rule.metric === 'component_up')).toEqual([]);
    expect(await stop(second.child, () => process.kill(-second.child.pid!, 'SIGINT'))).toBe(0);
  }, 90_000);

  it('should recover from a server killed outright: its PostgreSQL is stopped and its heartbeat forgotten by the next start', async () => {
    const dataDir = await tempDir('wf-killed-', 0o755);
    const env = { DATA_DIR: dataDir, ...(await ports()), DEMO: '0' };
    const first = await start(env);
    const before = await gql(first.url, '{ health { instance } }');
    expect(await stop(first.child, () => first.child.kill('SIGKILL'))).toBe(null);
    expect(await portOpen(Number(env.EMBEDDED_POSTGRES_PORT))).toBe(true); // the orphan, in its own session

    const second = await start(env);
    expect(second.output()).toContain('stopping the embedded PostgreSQL a killed server left running');
    expect(second.output()).toContain(before.health.instance);
    const { health } = await gql(second.url, '{ health { status instance components { name status } } }');
    expect(health.components.filter((c: { name: string }) => c.name.startsWith('replica:'))).toEqual([{ name: `replica:${health.instance}`, status: 'up' }]);
    expect(await stop(second.child)).toBe(0);
    expect(await portOpen(Number(env.EMBEDDED_POSTGRES_PORT))).toBe(false);
  }, 60_000);
});
