/** Starts the real server, the limit servers, the peers and other bench scripts as child processes (servers on free ports), for benchmarks. */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { BENCH_ADMIN } from './seed.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGISTER = ['--import', '@swc-node/register/esm-register'];

/** The node flags of the server's `npm start` (heap tuning included), so benchmarks run the product as shipped. */
function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'server', 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = manifest.scripts.start.split(/\s+/);
  return words.slice(1).filter((word, i, all) => word.startsWith('--') && word !== '--import' && all[i - 1] !== '--import');
}

export interface Target {
  name: string;
  url: string;
  /** headers every request carries (the real server's admin token) */
  headers: Record<string, string>;
  pid: number;
  /** the PostgreSQL backends serving this target (found by application_name), for CPU accounting */
  backendPids(): Promise<number[]>;
  stop(): Promise<void>;
  /** ms from spawning the process to its first healthy /api/health */
  startMs?: number;
}

function backendPidsOf(databaseUrl: string, name: string): () => Promise<number[]> {
  return async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('select pid from pg_stat_activity where application_name = $1', [`wf-bench-${name}`]);
      return rows.map((row) => row.pid as number);
    } finally {
      await client.end();
    }
  };
}

/** POSTs one GraphQL operation to a target with its headers; its `data`, or an error carrying `errors`. */
export async function postGraphQL(target: Pick<Target, 'url' | 'headers'>, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${target.url}/graphql`, { method: 'POST', headers: target.headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${url} did not become healthy in ${timeoutMs} ms`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      // Gone already: exited, or killed by a signal (then exitCode stays null).
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** `args[0]` is a TypeScript script (run through swc) or the compiled server's JavaScript. */
async function startProcess(name: string, args: string[], env: Record<string, string>, cwd: string, nodeArgs: string[]) {
  const port = await freePort();
  const register = args[0].endsWith('.ts') ? REGISTER : [];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, ...register, ...args], {
    cwd,
    env: { ...process.env, NODE_ENV: 'production', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  // A process that never became healthy is not left behind.
  await waitForHealth(url, child).catch(async (error) => {
    await stop();
    throw error;
  });
  return { name, url, child, stop, startMs: performance.now() - spawnedAt };
}

export interface ServerOptions {
  databaseUrl: string;
  env?: Record<string, string>;
  /** extra node flags, e.g. --cpu-prof */
  nodeArgs?: string[];
  /** the real server only: another checkout to run it from (an A/B against a baseline), and the target's name */
  root?: string;
  name?: string;
  /** the real server only: `source` runs src/main.ts through swc, as `npm start` did before there was a build; default compiled */
  entry?: 'compiled' | 'source';
}

/** The bench admin's session token. */
async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }',
      variables: { e: BENCH_ADMIN.email, p: BENCH_ADMIN.password },
    }),
  });
  const body = (await response.json()) as { data?: { login: { token: string } }; errors?: unknown };
  if (!body.data) throw new Error(`login failed: ${JSON.stringify(body.errors)}`);
  return body.data.login.token;
}

/** The product as `npm start` runs it (compiled, built first when stale), signed in as the benchmark admin. */
export async function startRealServer(options: ServerOptions): Promise<Target> {
  const name = options.name ?? 'server';
  const root = options.root ?? ROOT;
  const source = options.entry === 'source';
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-built.mjs'), 'sdk', ...(source ? [] : ['server'])], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error(`could not build the server in ${root}`);
  const started = await startProcess(
    name,
    [source ? 'src/main.ts' : 'dist/server/src/main.js'],
    {
      DATABASE_URL: options.databaseUrl,
      // node-pg reads PGAPPNAME: it tags the target's backends for CPU accounting.
      PGAPPNAME: `wf-bench-${name}`,
      HOST: '127.0.0.1',
      ADMIN_EMAIL: BENCH_ADMIN.email,
      ADMIN_PASSWORD: BENCH_ADMIN.password,
      LOG_LEVEL: 'warn',
      DEMO: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      CACHE_TTL_SECONDS: '0',
      SAMPLE_INTERVAL_SECONDS: '60',
      ...options.env,
    },
    path.join(root, 'server'),
    [...startFlags(), ...(options.nodeArgs ?? [])],
  );
  const token = await login(started.url).catch(async (error) => {
    await started.stop();
    throw error;
  });
  return {
    name: started.name, url: started.url, pid: started.child.pid!, stop: started.stop, startMs: started.startMs,
    backendPids: backendPidsOf(options.databaseUrl, name),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  };
}

/** A bench server script (no auth) whose PostgreSQL backends are tagged `wf-bench-<name>`. */
async function startBenchServer(name: string, script: string, options: ServerOptions): Promise<Target> {
  const started = await startProcess(name, [script], { DATABASE_URL: options.databaseUrl, PGAPPNAME: `wf-bench-${name}`, ...options.env }, ROOT, [...startFlags(), ...(options.nodeArgs ?? [])]);
  return {
    name: started.name, url: started.url, pid: started.child.pid!, stop: started.stop,
    backendPids: backendPidsOf(options.databaseUrl, name),
    headers: { 'content-type': 'application/json' },
  };
}

/** The raw limit, its JSON built by PostgreSQL (`postgres`) or in Node from rows (`node`). */
export const startLimitServer = (options: ServerOptions, json: 'node' | 'postgres'): Promise<Target> =>
  startBenchServer(`limit-${json}`, 'bench/limit-server.ts', { ...options, env: { ...options.env, LIMIT_JSON: json } });

/** Fastify + Mercurius + graphql-jit + loaders (bench/mercurius-server.ts). */
export const startMercuriusServer = (options: ServerOptions): Promise<Target> => startBenchServer('mercurius', 'bench/mercurius-server.ts', options);

/** The bare `ws` broadcast server of bench/fanout.ts, with the same node flags as the product (and `nodeArgs`). */
export async function startBareBroadcastServer(nodeArgs: string[] = []): Promise<Pick<Target, 'name' | 'url' | 'pid' | 'stop'>> {
  const started = await startProcess('bare', ['bench/bare-broadcast-server.ts'], {}, ROOT, [...startFlags(), ...nodeArgs]);
  return { name: started.name, url: started.url, pid: started.child.pid!, stop: started.stop };
}

/** A bench script in its own Node process with an IPC channel (`process.send`), e.g. a load generator. */
export function forkBenchScript(script: string): { child: ChildProcess; stop: () => Promise<void> } {
  const child = fork(path.join(ROOT, script), [], { cwd: ROOT, execArgv: REGISTER, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { child, stop: stopper(child) };
}

/** Bytes a Node process holds after full garbage collections. */
export interface HeapAfterGc {
  /** V8 heap in use (`Runtime.getHeapUsage` usedSize) */
  heapUsed: number;
  /** memory of C++ objects bound to JavaScript ones, ArrayBuffers and Buffers included (`process.memoryUsage()`) */
  external: number;
  arrayBuffers: number;
  /** resident set size right after those collections */
  rss: number;
}

/**
 * For benchmarks only: node flags that open a process's inspector on a free local port (its
 * address is not printed), and a reader that connects to it, collects garbage (twice) and reads
 * the heap, then disconnects.
 */
export async function heapInspector(): Promise<{ nodeArgs: string[]; afterGc: () => Promise<HeapAfterGc> }> {
  const port = await freePort();
  const afterGc = async (): Promise<HeapAfterGc> => {
    const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let lastId = 0;
    const call = <R>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<R>((resolve, reject) => {
        const id = ++lastId;
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(String(data)) as { id?: number; result?: R; error?: { message: string } };
          if (message.id !== id) return;
          socket.off('message', onMessage);
          if (message.error) reject(new Error(`${method}: ${message.error.message}`));
          else resolve(message.result!);
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify({ id, method, params }));
      });
    try {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const { usedSize } = await call<{ usedSize: number }>('Runtime.getHeapUsage');
      const { result } = await call<{ result: { value: string } }>('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())', includeCommandLineAPI: false, returnByValue: true,
      });
      const { external, arrayBuffers, rss } = JSON.parse(result.value) as NodeJS.MemoryUsage;
      return { heapUsed: usedSize, external, arrayBuffers, rss };
    } finally {
      await new Promise((resolve) => socket.once('close', resolve).close());
    }
  };
  return { nodeArgs: [`--inspect=127.0.0.1:${port}`, '--inspect-publish-uid=http'], afterGc };
}
