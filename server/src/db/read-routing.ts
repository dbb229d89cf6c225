/**
 * Read replicas (`DATABASE_READ_URL`): queries read from the replica; mutations, and the
 * answers they return, from the primary; and nobody reads data older than a change they have
 * been told about.
 *
 * Each mutation's events carry the primary's WAL position (LSN) after its commit. The highest
 * LSN this replica has heard of (its own mutations, and other replicas' through the bus) is
 * the watermark. A read goes to the replica only once the replica has replayed up to the
 * watermark, else to the primary. A mutation publishes its events before it answers, so the
 * client that made it — and every subscriber executing its event — reads its own write.
 * Without writes the check costs nothing; after one, one `pg_last_wal_replay_lsn()` on the
 * replica, shared by the requests that wait for it.
 *
 * Nothing here relies on session state, so a pooler in transaction mode (PgBouncer) works.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { EntityManager } from './orm.js';

/** What loaders and list queries need of the database: one statement at a time. */
export interface Queryable {
  execute(sql: string, params?: unknown[]): Promise<any[]>;
}

/** `X/Y` (hex halves) as one comparable number. */
function lsnValue(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export interface ReadRouting {
  readonly hasReplica: boolean;
  /** A change reached `lsn` on the primary: later reads must see at least that. */
  noteWrite(lsn: string | undefined): void;
  /**
   * The reads of one request or subscription event: on the replica when it is fresh enough,
   * else through `em` (the primary). `primaryOnly()` is asked at each statement (a request
   * learns it is a mutation after its context was made).
   */
  reader(em: EntityManager, primaryOnly: () => boolean): Queryable;
  /** counts of statements sent to each side, for tests and metrics */
  readonly stats: { replica: number; primary: number };
}

export function hasReplica(em: EntityManager): boolean {
  return em.getConnection('read') !== em.getConnection('write');
}

/** The primary's current WAL position; with a replica, mutations attach it to their events. */
export async function primaryLsn(em: EntityManager): Promise<string> {
  const [row] = await em.execute('select pg_current_wal_lsn()::text as lsn');
  return row.lsn;
}

export async function createReadRouting(orm: MikroORM): Promise<ReadRouting> {
  const replica = orm.em.getConnection('read');
  const withReplica = hasReplica(orm.em as EntityManager);
  const stats = { replica: 0, primary: 0 };
  // Whatever was committed before this replica started counts as heard of.
  let watermark = withReplica ? lsnValue(await primaryLsn(orm.em.fork() as EntityManager)) : 0n;
  let replayed = 0n;
  let checking: Promise<void> | null = null;

  const replicaCaughtUp = async (): Promise<boolean> => {
    if (replayed >= watermark) return true;
    checking ??= replica
      .execute('select pg_last_wal_replay_lsn()::text as lsn')
      .then((rows) => {
        const row = rows[0] as { lsn: string | null };
        // null: not a standby at all (a plain second database), which is always "caught up".
        if (row.lsn === null) replayed = 1n << 62n;
        else if (lsnValue(row.lsn) > replayed) replayed = lsnValue(row.lsn);
      })
      .finally(() => (checking = null));
    await checking;
    return replayed >= watermark;
  };

  return {
    hasReplica: withReplica,
    stats,
    noteWrite(lsn) {
      if (lsn && lsnValue(lsn) > watermark) watermark = lsnValue(lsn);
    },
    reader(em, primaryOnly) {
      if (!withReplica) return em;
      return {
        async execute(sql, params) {
          if (!primaryOnly() && (await replicaCaughtUp())) {
            stats.replica++;
            return replica.execute(sql, params as unknown[]);
          }
          stats.primary++;
          return em.execute(sql, params);
        },
      };
    },
  };
}

/** Marks mutations, so what they return is read from the primary. */
export function mutationsReadPrimary<C extends BaseContext & { operation: { readsFromPrimary: boolean } }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation?.operation === 'mutation') contextValue.operation.readsFromPrimary = true;
        },
      };
    },
  };
}
