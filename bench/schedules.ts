/**
 * How many schedules one replica can drive (issue 18): SCHEDULES schedules of a one-task
 * template, all firing every minute (`* * * * *`, UTC, overlapPolicy ALLOW so every slot makes a
 * workflow), on one real server (compiled, as `npm start` runs it; SCHEDULER_INTERVAL_MS as
 * shipped, 1 s) and a fresh database. The schedules go straight into the table (the same rows
 * createSchedule writes), due from a minute boundary at least 20 s ahead; the bench then waits
 * MINUTES slots and lets the replica drain. Lag per run: the workflow's creation time minus its
 * slot time, from the server's own rows; also how many of the slots ran (a replica that falls
 * more than a minute behind collapses a schedule's missed slots into its newest, by design).
 * RUNS runs, each on its own database.
 *
 *   npm run bench:schedules        (SCHEDULES=10000 MINUTES=2 RUNS=3)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { fixed, machine, percentile } from './measure.js';
import { postGraphQL as gql, startRealServer } from './processes.js';
import { databaseOnServer, dropDatabase, recreateDatabase } from './seed.js';

const SCHEDULES = Number(process.env.SCHEDULES ?? 10_000);
const MINUTES = Number(process.env.MINUTES ?? 2);
const RUNS = Number(process.env.RUNS ?? 3);
/** After the last measured slot, how long the replica may take to catch up. */
const DRAIN_MS = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  lags: number[];
  expected: number;
  /** first measured slot to the last measured workflow, s */
  spanSeconds: number;
}

async function oneRun(round: number): Promise<Run> {
  const databaseUrl = databaseOnServer(`wf_bench_schedules_${randomBytes(3).toString('hex')}`);
  await recreateDatabase(databaseUrl);
  const target = await startRealServer({ databaseUrl, name: `schedules-${round}` });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { createTemplate } = await gql(target, 'mutation { createTemplate(input: { name: "every minute", tasks: [{ name: "work" }] }) { id } }');
    const templateId = Buffer.from(createTemplate.id, 'base64url').toString().split(':')[1];
    const { rows: [{ first }] } = await db.query(
      `insert into schedules (owner_id, template_id, cron, timezone, overlap_policy, catchup_window_seconds, next_run_at)
       select t.owner_id, t.id, '* * * * *', 'UTC', 'ALLOW', 3600, date_trunc('minute', now() + interval '80 seconds')
         from workflow_templates t, generate_series(1, $2) where t.id = $1
       returning next_run_at as first`,
      [templateId, SCHEDULES],
    );
    const firstSlot = new Date(first);
    const lastSlot = new Date(firstSlot.getTime() + (MINUTES - 1) * 60_000);
    const expected = SCHEDULES * MINUTES;
    console.error(`round ${round}: ${SCHEDULES} schedules due from ${firstSlot.toISOString()}, measuring ${MINUTES} slot(s)`);
    const counted = async () =>
      Number((await db.query('select count(*)::int as n from workflows where scheduled_for between $1 and $2', [firstSlot, lastSlot])).rows[0].n);
    await sleep(Math.max(0, lastSlot.getTime() - Date.now()));
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline && (await counted()) < expected) await sleep(2000);
    const { rows } = await db.query(
      `select extract(epoch from (created_at - scheduled_for)) * 1000 as lag, created_at from workflows
        where scheduled_for between $1 and $2 order by created_at`,
      [firstSlot, lastSlot],
    );
    const lags = rows.map((row) => Number(row.lag)).sort((a, b) => a - b);
    const spanSeconds = rows.length ? (new Date(rows.at(-1).created_at).getTime() - firstSlot.getTime()) / 1000 : 0;
    return { lags, expected, spanSeconds };
  } finally {
    await db.end();
    await target.stop();
    await dropDatabase(databaseUrl);
  }
}

console.log(machine());
console.log(`${SCHEDULES} schedules firing every minute, one replica, ${MINUTES} slot(s) measured per run\n`);
console.log('| run | workflows made / slots | p50 lag s | p99 lag s | max lag s | made per s |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (let round = 1; round <= RUNS; round++) {
  const { lags, expected, spanSeconds } = await oneRun(round);
  const at = (p: number) => (lags.length ? fixed(percentile(lags, p) / 1000, 2) : '—');
  const rate = spanSeconds > 0 ? fixed(lags.length / spanSeconds, 0) : '—';
  console.log(`| ${round} | ${lags.length.toLocaleString('en')} / ${expected.toLocaleString('en')} | ${at(50)} | ${at(99)} | ${lags.length ? fixed(lags.at(-1)! / 1000, 2) : '—'} | ${rate} |`);
}
