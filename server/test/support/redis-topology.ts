/**
 * Real Redis topologies from the machine's redis-server, on free ports, for tests:
 * - Sentinel: a primary, one replica and three sentinels (quorum 2, a primary is down after 1 s);
 * - Cluster: three primaries sharing the 16,384 slots (`redis-cli --cluster create`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ThrowawayRedis } from './redis.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

async function stopAll(servers: ThrowawayRedis[], dir: string): Promise<void> {
  await Promise.all(servers.map((s) => s.kill()));
  await rm(dir, { recursive: true, force: true });
}
export const SENTINEL_NAME = 'wf-primary';

async function ask<T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await command(redis);
  } finally {
    redis.disconnect();
  }
}

export interface SentinelTopology {
  /** settings for a server on this topology */
  env: Record<string, string>;
  primary: ThrowawayRedis;
  replica: ThrowawayRedis;
  sentinels: ThrowawayRedis[];
  /** the port of the primary the sentinels name now */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinelTopology(): Promise<SentinelTopology> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-sentinel-'));
  const started: ThrowawayRedis[] = [];
  try {
    const primary = await ThrowawayRedis.start();
    started.push(primary);
    const replica = await ThrowawayRedis.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    started.push(replica);
    await waitFor('the replica to sync', () => ask(replica.port, async (r) => /master_link_status:up/.test(await r.info('replication'))), 15_000, 50);
    const sentinels: ThrowawayRedis[] = [];
    for (let i = 0; i < 3; i++) {
      // Each sentinel rewrites its own file.
      const conf = path.join(dir, `sentinel-${i}.conf`);
      await writeFile(conf, [
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
        '',
      ].join('\n'));
      const sentinel = await ThrowawayRedis.start([conf, '--sentinel']);
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    // A failover needs sentinels that know each other and the replica.
    await waitFor('the sentinels to know each other and the replica', async () => {
      const views = await Promise.all(sentinels.map((s) => ask(s.port, async (r) => {
        const known = (await r.call('SENTINEL', 'SENTINELS', SENTINEL_NAME)) as unknown[];
        const replicas = (await r.call('SENTINEL', 'REPLICAS', SENTINEL_NAME)) as unknown[];
        return known.length === 2 && replicas.length === 1;
      })));
      return views.every(Boolean);
    }, 20_000, 100);
    return {
      env: { REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), REDIS_SENTINEL_NAME: SENTINEL_NAME },
      primary,
      replica,
      sentinels,
      currentPrimaryPort: () => ask(sentinels[0].port, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME)) as string[])[1])),
      stop: () => stopAll(started, dir),
    };
  } catch (error) {
    await stopAll(started, dir);
    throw error;
  }
}

export interface ClusterTopology {
  env: Record<string, string>;
  nodes: ThrowawayRedis[];
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<ClusterTopology> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-redis-cluster-'));
  const nodes: ThrowawayRedis[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(await ThrowawayRedis.start(['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${i}.conf`), '--cluster-node-timeout', '2000', '--dir', dir]));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('the cluster to be ok on every node', async () => {
      const states = await Promise.all(nodes.map((n) => ask(n.port, async (r) => /cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO'))))));
      return states.every(Boolean);
    }, 20_000, 100);
    return {
      env: { REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') },
      nodes,
      stop: () => stopAll(nodes, dir),
    };
  } catch (error) {
    await stopAll(nodes, dir);
    throw error;
  }
}
