/**
 * Rollups: 1-minute and 1-hour aggregates of the raw samples, so long ranges are read from a
 * few rows instead of millions of samples, and outlive the raw samples' retention.
 *
 * Each bucket keeps the sample count, sum, min, max and p95 of one (name, service, instance).
 * Count, sum, min and max merge exactly, so any bucket that is a whole number of rollup buckets
 * gets the same avg, min and max as the raw samples would give. A p95 does not merge (the p95
 * of p95s is not the p95), so BOTH tiers compute it from the raw samples of their own bucket:
 * the hour tier is rolled from raw samples too (not from the minute tier), which the raw
 * retention (a day at least, 7 by default) keeps while the roller is minutes behind. That is
 * why `metricSeries` serves P95 from a tier only when its bucket IS one rollup bucket (60 s or
 * 3,600 s); any other P95 reads raw samples. A third tier, 1-day buckets, is merged from the
 * hour tier (exact for count, sum, min and max; no p95), so a year of a series is 365 rows to read
 * rather than 8,760: reading and sorting 438,000 hour rows made a year of 50 series take 1.6–2.6 s.
 *
 * One replica writes (the holder of the rollup lock, db/leader.ts). Every run rolls up the
 * buckets that ended at least `SETTLE_MS` ago, from the tier's watermark on, in chunks of one
 * transaction each (the rows and the new watermark together, so a crash never half-writes a
 * window). A sample pushed with a time before the watermark (a late `recordMetrics`) stays in
 * the raw tier only: rollups are not rewritten.
 */
import type { AppServices } from '../app/context.js';
import { inTransaction, type EntityManager } from '../db/orm.js';
import { leadership } from '../db/leader.js';
import { repeat } from '../core/repeat.js';
import { toDate } from '../db/sql.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

export type Tier = 'minute' | 'hour' | 'day';

/** finest first: the order they are rolled up in (each day from its hours) */
export const TIERS: readonly Tier[] = ['minute', 'hour', 'day'];
export const TIER_SECONDS: Record<Tier, number> = { minute: 60, hour: 3600, day: 86_400 };
const TABLES: Record<Tier, string> = { minute: 'metric_rollups_minute', hour: 'metric_rollups_hour', day: 'metric_rollups_day' };
/** one transaction rolls up at most this much time */
const CHUNK_MS: Record<Tier, number> = { minute: 6 * 3_600_000, hour: 24 * 3_600_000, day: 30 * 86_400_000 };
/** a bucket is rolled up once it ended this long ago: sampler ticks and pushes arrive late */
export const SETTLE_MS = 2 * 60_000;
const ROLLUP_PERIOD_MS = 60_000;
/** chunks per tier in one run: catching up after a long pause takes a few runs, not one huge one */
const MAX_CHUNKS_PER_RUN = 28;

export const rollupTable = (tier: Tier): string => TABLES[tier];

const floorTo = (ms: number, seconds: number): number => Math.floor(ms / (seconds * 1000)) * seconds * 1000;

export type Watermarks = Record<Tier, Date | null>;

/** How far each tier is written: every bucket before the mark exists (null: never rolled). */
export async function watermarks(em: EntityManager): Promise<Watermarks> {
  const rows: Array<{ tier: Tier; rolled_until: string | Date }> = await em.execute('select tier, rolled_until from metric_rollup_state');
  const marks: Watermarks = { minute: null, hour: null, day: null };
  for (const row of rows) marks[row.tier] = toDate(row.rolled_until);
  return marks;
}

/** The tier's rows of [from, until): minutes and hours from the raw samples, days from the hours. */
function rollUpSql(tier: Tier): string {
  if (tier === 'day') {
    return `insert into ${TABLES.day} (name, service, instance, bucket, samples, sum, min, max, p95)
            select name, service, instance, date_bin(make_interval(secs => ?), bucket, timestamptz 'epoch'), sum(samples), sum(sum), min(min), max(max), null
              from ${TABLES.hour} where bucket >= ? and bucket < ?
             group by 1, 2, 3, 4
            on conflict (name, bucket, service, instance) do update
              set samples = excluded.samples, sum = excluded.sum, min = excluded.min, max = excluded.max`;
  }
  return `insert into ${TABLES[tier]} (name, service, instance, bucket, samples, sum, min, max, p95)
          select name, service, instance, date_bin(make_interval(secs => ?), time, timestamptz 'epoch'), count(*), sum(value), min(value), max(value),
                 percentile_cont(0.95) within group (order by value)
            from metrics where time >= ? and time < ?
           group by 1, 2, 3, 4
          on conflict (name, bucket, service, instance) do update
            set samples = excluded.samples, sum = excluded.sum, min = excluded.min, max = excluded.max, p95 = excluded.p95`;
}

/**
 * Rolls up one chunk of `tier` from its watermark; returns how far it got, or null when it is
 * caught up. The first run starts at the oldest raw sample (days: the oldest hour rollup). Days
 * go no further than the hour tier's watermark: an hour row is final once written.
 */
export async function rollUpChunk(em: EntityManager, tier: Tier, now = new Date()): Promise<Date | null> {
  const width = TIER_SECONDS[tier];
  return inTransaction(em, async (tx) => {
    const [state] = await tx.execute('select rolled_until from metric_rollup_state where tier = ? for update', [tier]);
    let from: number;
    if (state) from = toDate(state.rolled_until as string).getTime();
    else {
      const [{ first }] = await tx.execute(tier === 'day' ? `select min(bucket) as first from ${TABLES.hour}` : 'select min(time) as first from metrics');
      from = floorTo(first ? toDate(first as string).getTime() : now.getTime() - SETTLE_MS, width);
    }
    let settled = floorTo(now.getTime() - SETTLE_MS, width);
    if (tier === 'day') {
      const [hours] = await tx.execute(`select rolled_until from metric_rollup_state where tier = 'hour'`);
      settled = Math.min(settled, hours ? floorTo(toDate(hours.rolled_until as string).getTime(), width) : from);
    }
    const until = Math.min(settled, from + CHUNK_MS[tier]);
    if (until <= from) {
      if (!state) await tx.execute('insert into metric_rollup_state (tier, rolled_until) values (?, ?)', [tier, new Date(from)]);
      return null;
    }
    await tx.execute(rollUpSql(tier), [width, new Date(from), new Date(until)]);
    await tx.execute(
      `insert into metric_rollup_state (tier, rolled_until) values (?, ?)
       on conflict (tier) do update set rolled_until = excluded.rolled_until`,
      [tier, new Date(until)],
    );
    return new Date(until);
  });
}

/** Rolls every tier up as far as settled buckets go (bounded per run); returns the chunks written. */
export async function rollUp(em: EntityManager, now = new Date()): Promise<number> {
  let chunks = 0;
  for (const tier of TIERS) {
    for (let i = 0; i < MAX_CHUNKS_PER_RUN; i++) {
      if (!(await rollUpChunk(em, tier, now))) break;
      chunks++;
    }
  }
  return chunks;
}

/** Rollups older than their tier's retention go; raw samples are pruned by retention.ts. */
export async function pruneRollups(em: EntityManager, days: Record<Tier, number>): Promise<number> {
  let deleted = 0;
  for (const tier of TIERS) {
    const result = await em.execute(`delete from ${TABLES[tier]} where bucket < now() - make_interval(days => ?)`, [days[tier]], 'run');
    deleted += (result as unknown as { affectedRows: number }).affectedRows;
  }
  return deleted;
}

/** The roller: the replica holding the rollup lock rolls up every minute. */
export function startRollups(app: AppServices, directUrl: string) {
  const lock = leadership(directUrl, ADVISORY_LOCKS.metricRollups, app.logger);
  const job = repeat('metric-rollups', ROLLUP_PERIOD_MS, async () => {
    if (!(await lock.isLeader())) return;
    await rollUp(app.orm.em.fork() as EntityManager);
  }, app);
  return {
    async stop() {
      await job.stop();
      await lock.release();
    },
  };
}
