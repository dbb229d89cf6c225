/**
 * Every Redis connection the server opens is made here, whatever the topology: one server
 * (`REDIS_URL`), a primary watched by Sentinel (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`:
 * connections follow a failover to the promoted replica), or a Redis Cluster
 * (`REDIS_CLUSTER_NODES`: commands go to the node owning their key's slot).
 *
 * What the users of Redis may do so that all three work:
 * - one key per command, or keys sharing a hash tag (`{…}`): in a cluster a multi-key command
 *   (MGET, MULTI over several keys, EVAL with several keys) must stay within one slot;
 * - pub/sub with PUBLISH / SUBSCRIBE: a cluster forwards every published message to every
 *   node, so a subscriber on any node hears it.
 */
import { type Callback, Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; password?: string }
  | { kind: 'cluster'; nodes: RedisNode[]; password?: string };

/** A connection to any topology: both classes take the same commands. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** true: commands wait while disconnected; false: they fail at once */
  offlineQueue: boolean;
  /** how often a command is retried after a reconnection; null: until it succeeds */
  maxRetriesPerRequest: number | null;
  /** a command that has no answer by then fails */
  commandTimeoutMs?: number;
}

const RECONNECT_MAX_DELAY_MS = 2_000;
/** Reconnects forever, soon at first and every 2 s at most. */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS);

/**
 * ioredis 5.11 ends a Sentinel connection for good when the sentinels' +switch-master arrives
 * while that connection is already reconnecting (the announcement aborts the attempt under
 * way, and an aborted attempt means `end`). Unless the server closed it itself (disconnect or quit), it starts
 * again: after a failover every connection reaches the promoted replica.
 */
class SentinelRedis extends Redis {
  #closing = false;
  #restarts = 0;

  constructor(options: RedisOptions) {
    super(options);
    this.on('ready', () => {
      this.#restarts = 0;
    });
    this.on('end', () => {
      if (this.#closing) return;
      setTimeout(() => {
        if (!this.#closing && this.status === 'end') this.connect().catch(() => undefined);
      }, reconnectDelay(++this.#restarts)).unref();
    });
  }

  override disconnect(reconnect = false): void {
    if (!reconnect) this.#closing = true;
    super.disconnect(reconnect);
  }

  override quit(callback?: Callback<'OK'>): Promise<'OK'> {
    this.#closing = true;
    return super.quit(callback);
  }
}

export function connectRedis(target: RedisTarget, options: RedisConnectionOptions): RedisClient {
  const common = {
    enableOfflineQueue: options.offlineQueue,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    commandTimeout: options.commandTimeoutMs,
  };
  if (target.kind === 'server') return new Redis(target.url, { ...common, retryStrategy: reconnectDelay });
  if (target.kind === 'sentinel') {
    return new SentinelRedis({
      ...common,
      sentinels: target.sentinels,
      name: target.name,
      password: target.password,
      retryStrategy: reconnectDelay,
      sentinelRetryStrategy: reconnectDelay,
      // Also listen to the sentinels' +switch-master: move to a promoted replica at once,
      // not only when the old primary's connection drops.
      failoverDetector: true,
    });
  }
  return new Cluster(target.nodes, {
    enableOfflineQueue: options.offlineQueue,
    clusterRetryStrategy: reconnectDelay,
    redisOptions: { ...common, password: target.password },
  });
}
