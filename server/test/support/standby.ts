/**
 * A throwaway PostgreSQL primary with a real streaming standby (Debian's PostgreSQL binaries:
 * initdb, then pg_basebackup -R), on free ports in a temporary folder, for read-replica tests.
 * As root, every binary runs as the `postgres` OS user (initdb refuses root).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { asPostgres as as, clusterFolder, onFreePort, withLog } from './cluster.js';

export { postgresBinaries } from './cluster.js';

export interface Standby {
  primaryUrl: string;
  standbyUrl: string;
  /** Pauses (true) or resumes (false) WAL replay on the standby: a lagging replica on demand. */
  pauseReplay(paused: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrimaryWithStandby(bin: string): Promise<Standby> {
  const { dir, options } = await clusterFolder('wf-standby-');
  const primaryDir = path.join(dir, 'primary');
  const standbyDir = path.join(dir, 'standby');
  const start = (data: string, log: string): Promise<number> =>
    onFreePort((port) => as(bin, 'pg_ctl', ['-D', data, '-o', options(port), '-l', log, '-w', 'start']).catch(withLog(log)));

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
