/**
 * Throwaway PostgreSQL servers from Debian's binaries, in a temporary folder on a free port,
 * that a test may stop and start again (a database outage on demand) without touching the
 * machine's shared PostgreSQL. As root, every binary runs as the `postgres` OS user (initdb
 * refuses root).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/** The newest Debian PostgreSQL's bin folder, or null when none is installed. */
export async function postgresBinaries(): Promise<string | null> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  return newest ? `/usr/lib/postgresql/${newest}/bin` : null;
}

/** Runs one of PostgreSQL's tools, as the `postgres` user when the tests run as root. */
export async function asPostgres(bin: string, tool: string, args: string[]): Promise<void> {
  const command = path.join(bin, tool);
  if (asRoot) await run('runuser', ['-u', 'postgres', '--', command, ...args]);
  else await run(command, args);
}

/** A failed start, with the end of the server's log (pg_ctl only says "examine the log"). */
export const withLog = (log: string) => async (error: Error): Promise<never> => {
  throw new Error(`${error.message}\n${(await readFile(log, 'utf8').catch(() => '')).slice(-2000)}`);
};

/** A temporary folder the `postgres` user may write in, and the options a server there listens with. */
export async function clusterFolder(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o777);
  const options = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  return { dir, options };
}

/** Starts a server on a free port; one can be taken between finding and binding it, so another is tried. */
export async function onFreePort(start: (port: number) => Promise<void>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await start(port);
      return port;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

export interface Cluster {
  url: string;
  /** Stops the server (fast shutdown: open sessions are terminated), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

export async function startCluster(bin: string): Promise<Cluster> {
  const { dir, options } = await clusterFolder('wf-cluster-');
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  await asPostgres(bin, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust']);
  const startOn = (port: number) => asPostgres(bin, 'pg_ctl', ['-D', data, '-o', options(port), '-l', log, '-w', 'start']).catch(withLog(log));
  const port = await onFreePort(startOn);
  const stop = () => asPostgres(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start: () => startOn(port),
    async destroy() {
      await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
