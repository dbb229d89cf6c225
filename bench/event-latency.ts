/**
 * Event latency: time from sending a mutation to receiving its event on a graphql-ws
 * subscription, over 100 events one at a time (after 10 warm-up events), in three set-ups:
 * one replica with the in-process bus, one replica on Redis, and two replicas on Redis
 * (mutation sent to B, subscriber on A). Real server processes (compiled, as `npm start` runs them), a fresh
 * database, a unique Redis prefix.
 *
 *   node --import @swc-node/register/esm-register bench/event-latency.ts
 *
 * DATABASE_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres);
 * REDIS_URL the Redis (default redis://127.0.0.1:6379). EVENTS overrides the 100.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { machine, percentile } from './measure.js';
import { startRealServer, type Target } from './processes.js';

const EVENTS = Number(process.env.EVENTS ?? 100);
const WARM_UP = 10;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `wf_bench_events_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

interface Run {
  setup: string;
  latencies: number[];
  mutationTimes: number[];
}

/** Subscribes on `subscriber`, sends mutations to `writer` one at a time, times each event. */
async function run(setup: string, subscriber: Target, writer: Target): Promise<Run> {
  const client = createClient({
    url: `${subscriber.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: subscriber.headers.authorization },
  });
  const waiting = new Map<string, (at: number) => void>();
  const stop = client.subscribe<{ workflowEvents: { workflow: { name: string } | null } }>(
    { query: 'subscription { workflowEvents { cursor kind workflow { id name status } } }' },
    {
      next: ({ data }) => {
        const name = data?.workflowEvents.workflow?.name;
        if (name) waiting.get(name)?.(performance.now());
      },
      error: (error) => console.error('subscription failed', error),
      complete: () => undefined,
    },
  );
  const latencies: number[] = [];
  const mutationTimes: number[] = [];
  const once = async (name: string): Promise<number> => {
    const arrived = new Promise<number>((resolve) => waiting.set(name, resolve));
    const sent = performance.now();
    const response = await fetch(`${writer.url}/graphql`, {
      method: 'POST',
      headers: writer.headers,
      body: JSON.stringify({ query: 'mutation ($n: String!) { createWorkflow(input: { name: $n }) { id } }', variables: { n: name } }),
    });
    if (!response.ok) throw new Error(`mutation failed: ${response.status} ${await response.text()}`);
    mutationTimes.push(performance.now() - sent);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no event for ${name} within 10 s`)), 10_000).unref());
    const at = await Promise.race([arrived, timeout]);
    waiting.delete(name);
    return at - sent;
  };
  // The subscription is live once a warm-up event arrives (graphql-ws does not acknowledge it).
  for (let attempt = 0; ; attempt++) {
    try {
      await once(`${setup} warm-up ${attempt}`);
      if (attempt >= WARM_UP) break;
    } catch (error) {
      if (attempt > WARM_UP + 20) throw error;
    }
  }
  mutationTimes.length = 0;
  for (let i = 0; i < EVENTS; i++) latencies.push(await once(`${setup} ${i}`));
  stop();
  await client.dispose();
  return { setup, latencies, mutationTimes };
}

function report({ setup, latencies, mutationTimes }: Run): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mutations = [...mutationTimes].sort((a, b) => a - b);
  const ms = (value: number) => value.toFixed(1);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return `| ${setup} | ${sorted.length} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${ms(mean)} | ${ms(sorted.at(-1)!)} | ${ms(percentile(mutations, 50))} |`;
}

const rows: string[] = [];
await withDatabase(async (databaseUrl) => {
  const prefix = `wf-bench-${randomBytes(4).toString('hex')}:`;
  const single = await startRealServer({ databaseUrl });
  try {
    rows.push(report(await run('1 replica, in-process bus', single, single)));
  } finally {
    await single.stop();
  }
  const redisEnv = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix };
  const a = await startRealServer({ databaseUrl, env: redisEnv });
  const b = await startRealServer({ databaseUrl, env: redisEnv });
  try {
    rows.push(report(await run('1 replica, Redis bus', a, a)));
    rows.push(report(await run('2 replicas, Redis (mutation on B, subscriber on A)', a, b)));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

console.log(`\n${new Date().toISOString()} — ${machine()}\n`);
console.log('| set-up | events | p50 ms | p99 ms | mean ms | max ms | mutation response p50 ms |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
