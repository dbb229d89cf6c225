/**
 * The real entry point (`src/main.ts`) as its own process, for what only a process shows: a
 * crash that exits it, signals, its own memory. Or the compiled one, as `npm start` runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ADMIN } from './server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** everything the process wrote to stdout and stderr so far */
  output(): string;
  /** resolves when the process exits */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** a session token of the bootstrap admin */
  adminToken: string;
  /** signs the admin in once more: a new session token */
  signIn(): Promise<string>;
  /** kills the process (if still running) and drops its database */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** a database other replicas use too (not dropped by `stop`); default: a fresh one, dropped */
  database?: TestDatabase;
  /** default: a free one */
  port?: number;
  /** how long it may take to serve; default 30 s */
  startTimeoutMs?: number;
  /** `compiled`: server/dist as `npm start -w server` runs it (build it first); default: the sources through swc */
  entry?: 'source' | 'compiled';
}

/** The node arguments of server/package.json's `start` script (`node …flags dist/server/src/main.js`). */
export function compiledStartArgs(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = manifest.scripts.start.split(/\s+/);
  if (node !== 'node') throw new Error(`unexpected start script: ${manifest.scripts.start}`);
  return args;
}

/** Starts a replica on a free port against a fresh database; `env` overrides settings. */
export async function startServerProcess(env: Record<string, string> = {}, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const database: TestDatabase = options.database ?? (await createTestDatabase());
  const port = options.port ?? (await freePort());
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...baseEnv } = process.env;
  const args = options.entry === 'compiled' ? compiledStartArgs() : ['--import', '@swc-node/register/esm-register', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    env: { ...baseEnv, DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DEMO: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (!options.database) await database.drop();
  };
  try {
    await waitFor('the server to serve', async () => child.exitCode !== null || fetch(`${url}/api/ready`).then((r) => r.ok, () => false), options.startTimeoutMs ?? 30_000);
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output}`);
    const signIn = async () => {
      const login = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', variables: { e: ADMIN.email, p: ADMIN.password } }),
      });
      return ((await login.json()) as { data: { login: { token: string } } }).data.login.token;
    };
    return { child, url, output: () => output, exited, adminToken: await signIn(), signIn, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
