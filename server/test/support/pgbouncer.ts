/**
 * A throwaway PgBouncer (Debian's binary, the repository's pgbouncer.ini) in front of one test database,
 * on a free port with its ini in a temporary folder, plus its admin console (`SHOW …`).
 * As root it switches to the `postgres` OS user (it refuses to run as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export const PGBOUNCER_INI = new URL('../../../deploy/pgbouncer/pgbouncer.ini', import.meta.url);

/**
 * The repository's deploy/pgbouncer/pgbouncer.ini for one test database: its [databases] become
 * that database, it listens on 127.0.0.1:`port`, trusts its clients (the machine's PostgreSQL
 * trusts them too; compose's userlist is not here), opens its admin console to `postgres`, and
 * pools `poolSize` server connections. Everything else (pool mode, limits) is the file's.
 */
function templated(ini: string, { database, server, port, poolSize }: { database: string; server: string; port: number; poolSize: number }): string {
  const [, settings] = ini.split(/^\[pgbouncer\]$/m);
  const set = (text: string, pattern: RegExp, value: string) => {
    if (!pattern.test(text)) throw new Error(`deploy/pgbouncer/pgbouncer.ini has no line ${pattern}: update the test's template`);
    return text.replace(pattern, value);
  };
  let replaced = set(settings, /^listen_addr = .*$/m, 'listen_addr = 127.0.0.1');
  replaced = set(replaced, /^listen_port = .*$/m, `listen_port = ${port}`);
  replaced = set(replaced, /^auth_type = .*$/m, 'auth_type = any\nadmin_users = postgres');
  replaced = set(replaced, /^auth_file = .*\n/m, '');
  replaced = set(replaced, /^default_pool_size = .*$/m, `default_pool_size = ${poolSize}`);
  return `[databases]\n${database} = ${server}\n[pgbouncer]${replaced}`;
}

/**
 * Whether the PgBouncer tests can run. Missing binary: with `REQUIRE_PGBOUNCER=1` (CI) this
 * throws, failing the file; otherwise one line says what was skipped.
 */
export function pgbouncerInstalled(): boolean {
  if (existsSync(PGBOUNCER)) return true;
  if (process.env.REQUIRE_PGBOUNCER === '1') throw new Error(`REQUIRE_PGBOUNCER=1 but ${PGBOUNCER} is missing (apt-get install pgbouncer)`);
  console.warn(`${PGBOUNCER} missing: skipped the PgBouncer tests (apt-get install pgbouncer); set REQUIRE_PGBOUNCER=1 to fail instead`);
  return false;
}

export interface PgBouncer {
  /** the test database through PgBouncer */
  url: string;
  /** its name, as `SHOW` commands list it */
  database: string;
  /** Runs a `SHOW …` command on the admin console. */
  show(what: 'CLIENTS' | 'SERVERS'): Promise<Array<Record<string, any>>>;
  stop(): Promise<void>;
}

export async function startPgBouncer(databaseUrl: string, poolSize: number): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const database = target.pathname.slice(1);
  const password = decodeURIComponent(target.password);
  // The embedded PostgreSQL (tests without DATABASE_URL) wants a password; the machine's trusts.
  const server = `host=${target.hostname} port=${target.port || 5432} dbname=${database} user=${decodeURIComponent(target.username) || 'postgres'}${password ? ` password=${password}` : ''}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-pgbouncer-'));
  // As root PgBouncer reads its ini after switching to the postgres user.
  await chmod(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', ini] : [ini];

  // A free port can be taken between finding and binding it: try another.
  let child: ChildProcess;
  let port: number;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    await writeFile(ini, templated(await readFile(PGBOUNCER_INI, 'utf8'), { database, server, port, poolSize }));
    child = spawn(PGBOUNCER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await ready(child);
      break;
    } catch (error) {
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  child.stderr!.resume();

  const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url,
    database,
    async show(what) {
      // The admin console speaks only the simple query protocol: no parameters.
      const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/pgbouncer` });
      await admin.connect();
      try {
        return (await admin.query(`SHOW ${what}`)).rows;
      } finally {
        await admin.end();
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once PgBouncer accepts connections; rejects with its log when it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const collect = (chunk: Buffer) => {
      log += chunk;
      if (!log.includes('process up')) return;
      child.stderr!.off('data', collect);
      resolve();
    };
    child.stderr!.on('data', collect);
    child.once('exit', (code) => reject(new Error(`pgbouncer exited with ${code}: ${log.slice(-1000)}`)));
  });
}
