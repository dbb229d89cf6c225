/**
 * Work that exactly one replica does (alert evaluation): the replica holding a PostgreSQL
 * session advisory lock on its own connection leads until it stops or that connection dies,
 * when another replica takes over at its next try. The connection must reach PostgreSQL
 * itself (`DATABASE_DIRECT_URL`): through a transaction-mode pooler the lock would stay on a
 * server connection that other clients reuse.
 */
import pg from 'pg';
import type { Logger } from '../core/logger.js';

export interface Leadership {
  /** true while this replica holds the lock; tries to take it when free */
  isLeader(): Promise<boolean>;
  release(): Promise<void>;
}

export function leadership(url: string, lockKey: number, logger: Logger): Leadership {
  let client: pg.Client | null = null;
  let leading = false;

  const drop = (): void => {
    const old = client;
    client = null;
    leading = false;
    old?.end().catch(() => undefined);
  };

  return {
    async isLeader() {
      try {
        if (!client) {
          const fresh = new pg.Client({ connectionString: url, application_name: 'wf-leader' });
          // A dead connection means the lock is gone: step down, retry on the next call.
          fresh.on('error', (error) => {
            logger.warn({ err: error, lockKey }, 'leader connection lost');
            if (client === fresh) drop();
          });
          await fresh.connect();
          client = fresh;
        }
        if (!leading) {
          const { rows } = await client.query('select pg_try_advisory_lock($1) as locked', [lockKey]);
          leading = rows[0].locked === true;
        } else {
          await client.query('select 1');
        }
        return leading;
      } catch (error) {
        logger.warn({ err: error, lockKey }, 'leader lock check failed');
        drop();
        return false;
      }
    },
    async release() {
      const old = client;
      client = null;
      leading = false;
      // Closing the session frees the lock.
      await old?.end().catch(() => undefined);
    },
  };
}
