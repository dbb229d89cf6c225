/**
 * A throwaway PostgreSQL primary with a real streaming standby (Debian's PostgreSQL binaries:
 * initdb, then pg_basebackup -R), on free ports in a temporary folder, for read-replica tests.
 * As root, every binary runs as the `postgres` OS user (initdb refuses root).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/** The newest Debian PostgreSQL's bin folder, or null when none is installed. */
export async function postgresBinaries(): Promise<string | null> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  return newest ? `/usr/lib/postgresql/${newest}/bin` : null;
}

async function as(bin: string, tool: string, args: string[]): Promise<void> {
  const command = path.join(bin, tool);
  if (asRoot) await run('runuser', ['-u', 'postgres', '--', command, ...args]);
  else await run(command, args);
}

/** A failed start, with the end of the server's log (pg_ctl only says "examine the log"). */
const withLog = (log: string) => async (error: Error): Promise<never> => {
  throw new Error(`${error.message}\n${(await readFile(log, 'utf8').catch(() => '')).slice(-2000)}`);
};

export interface Standby {
  primaryUrl: string;
  standbyUrl: string;
  /** Pauses (true) or resumes (false) WAL replay on the standby: a lagging replica on demand. */
  pauseReplay(paused: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrimaryWithStandby(bin: string): Promise<Standby> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-standby-'));
  await chmod(dir, 0o777);
  const primaryDir = path.join(dir, 'primary');
  const standbyDir = path.join(dir, 'standby');
  const options = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  // A free port can be taken between finding and binding it: try another.
  const start = async (data: string, log: string): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        await as(bin, 'pg_ctl', ['-D', data, '-o', options(port), '-l', log, '-w', 'start']);
        return port;
      } catch (error) {
        if (attempt >= 3) return withLog(log)(error as Error);
      }
    }
  };

  // PostgreSQL's defaults already allow streaming replication (wal_level replica, trust for 127.0.0.1).
  await as(bin, 'initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust']);
  const primaryPort = await start(primaryDir, path.join(dir, 'primary.log'));
  await as(bin, 'pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream']);
  const standbyPort = await start(standbyDir, path.join(dir, 'standby.log'));

  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const standbyUrl = `postgres://postgres@127.0.0.1:${standbyPort}/postgres`;
  const onStandby = async (sql: string) => {
    const client = new pg.Client({ connectionString: standbyUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    primaryUrl,
    standbyUrl,
    pauseReplay: (paused) => onStandby(paused ? 'select pg_wal_replay_pause()' : 'select pg_wal_replay_resume()'),
    async stop() {
      for (const data of [standbyDir, primaryDir]) await as(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
