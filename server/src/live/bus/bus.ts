/**
 * The event bus: news of changes, fanned out to every replica. It only carries news; the
 * `events` table is the truth (see `event-feed.ts` for resuming from it).
 *
 * In-process by default. With a Redis URL, every message is also published on Redis and
 * delivered to the other replicas' listeners. A publisher always delivers to its own
 * replica's listeners at once (not through Redis), so while Redis is down each replica
 * still sees its own news; when Redis comes back, `onResync` listeners are told to
 * re-read whatever they may have missed.
 */
import { randomUUID } from 'node:crypto';
import { connectRedis, type RedisTarget } from '../../core/redis.js';
import { AsyncQueue } from '../../core/async-queue.js';
import type { StoredEvent } from '../event-log.js';
import type { Logger } from '../../core/logger.js';

/**
 * One typed map of topic → payload, so a typo in a topic fails to compile. Shared code declares
 * only the topics it owns here; each domain adds its own from its `events.ts`:
 * `declare module '../live/bus/bus.js' { interface Topics { … } }`.
 * Payloads cross Redis as JSON: keep them JSON-safe (dates arrive as ISO strings).
 * A topic whose payload is `StoredEvent` is an event-log topic: resumable through `event-feed.ts`.
 */
export interface Topics {
  /** a session or API token was revoked: open sockets signed in with it close at once, on every replica */
  credential: RevokedCredential;
}

export interface RevokedCredential {
  kind: 'session' | 'api-token';
  id: string;
}

/**
 * `convert` applied once per bus message, whoever asks: the listeners of one message then hand
 * the same objects to their subscribers, so equal subscriptions share one execution of it.
 */
export function oncePerMessage<T extends object, U>(convert: (message: T) => U): (message: T) => U {
  const converted = new WeakMap<T, U>();
  return (message) => {
    if (!converted.has(message)) converted.set(message, convert(message));
    return converted.get(message)!;
  };
}

export type Topic = keyof Topics;

/** The topics whose news are rows of the `events` table (their `topic` column). */
export type LogTopic = { [K in Topic]: Topics[K] extends StoredEvent ? K : never }[Topic];

export interface EventBus {
  readonly kind: 'in-process' | 'redis';
  /** Delivers to this replica's listeners now and, with Redis, to the other replicas. Never throws. */
  publish<K extends Topic>(topic: K, payload: Topics[K]): void;
  /** Calls `listener` for every message on `topic`; returns the unsubscribe function. */
  on<K extends Topic>(topic: K, listener: (payload: Topics[K]) => void): () => void;
  /** Every message on `topic` as an async iterator (`return()` unsubscribes); type-graphql's PubSub shape. */
  subscribe<K extends Topic>(topic: K): AsyncIterableIterator<Topics[K]>;
  /** Called when messages from other replicas may have been lost (Redis reconnected). */
  onResync(listener: () => void): () => void;
  /** Resolves when the bus can reach every replica; rejects naming the problem. For readiness. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface EventBusOptions {
  logger: Logger;
  /** unset: in-process only */
  redis?: RedisTarget;
  /** prepended to every Redis channel, so deployments (and tests) sharing a Redis stay apart */
  redisPrefix?: string;
}

interface Wire {
  /** the publishing bus, so a replica skips its own messages (it delivered them already) */
  from: string;
  topic: string;
  payload?: unknown;
  /** "I could not publish for a while": receivers re-read what they may have missed */
  resync?: true;
}

const CONTROL_TOPIC = '_control';

export function createEventBus(options: EventBusOptions): EventBus {
  const listeners = new Map<string, Set<(payload: any) => void>>();
  const resyncListeners = new Set<() => void>();
  const { logger } = options;

  const deliver = (topic: string, payload: unknown): void => {
    for (const listener of listeners.get(topic) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        logger.error({ err: error, topic }, 'event listener failed');
      }
    }
  };
  const resync = (): void => {
    for (const listener of resyncListeners) listener();
  };

  const redis = options.redis ? connectBus(options.redis, options.redisPrefix ?? 'wf:', logger, deliver, resync) : null;

  const on = <K extends Topic>(topic: K, listener: (payload: Topics[K]) => void): (() => void) => {
    let set = listeners.get(topic);
    if (!set) listeners.set(topic, (set = new Set()));
    set.add(listener);
    redis?.listen(topic);
    return () => set.delete(listener);
  };

  return {
    kind: redis ? 'redis' : 'in-process',
    publish(topic, payload) {
      deliver(topic, payload);
      redis?.publish(topic, payload);
    },
    on,
    subscribe(topic) {
      let off = (): void => undefined;
      const queue = new AsyncQueue<Topics[typeof topic]>({ onClose: () => off() });
      off = on(topic, (payload) => queue.push(payload));
      return queue;
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    async check() {
      await redis?.check();
    },
    async close() {
      listeners.clear();
      resyncListeners.clear();
      redis?.close();
    },
  };
}

/**
 * Two connections (a subscribed connection cannot publish). Both reconnect forever with a
 * short backoff. Publishing never queues while disconnected: the event is in the table already,
 * and the other replicas catch up from it when told to resync.
 */
function connectBus(
  target: RedisTarget,
  prefix: string,
  logger: Logger,
  deliver: (topic: string, payload: unknown) => void,
  resync: () => void,
) {
  const id = randomUUID();
  const publisher = connectRedis(target, { offlineQueue: false, maxRetriesPerRequest: 1 });
  const subscriber = connectRedis(target, { offlineQueue: true, maxRetriesPerRequest: null });
  const channels = new Set<string>();
  let publishMissed = false;
  let subscriberWasReady = false;
  let downSince: number | null = null;

  const noteDown = (error: Error): void => {
    if (downSince !== null) return;
    downSince = Date.now();
    logger.warn({ err: error }, 'Redis unreachable: events reach other replicas once it is back');
  };
  publisher.on('error', noteDown);
  subscriber.on('error', noteDown);
  publisher.on('ready', () => {
    if (!publishMissed) return;
    publishMissed = false;
    send({ from: id, topic: CONTROL_TOPIC, resync: true });
  });
  subscriber.on('ready', () => {
    if (downSince !== null) logger.info({ downMs: Date.now() - downSince }, 'Redis is back');
    downSince = null;
    // ioredis re-subscribes what it had; a channel first asked for during the outage failed
    // then, so every channel is asked for again (a no-op for the others). What was published
    // meanwhile is re-read from the table.
    if (subscriberWasReady) {
      subscribeAll();
      resync();
    }
    subscriberWasReady = true;
  });
  subscriber.on('message', (channel: string, message: string) => {
    let wire: Wire;
    try {
      wire = JSON.parse(message) as Wire;
    } catch {
      return logger.warn({ channel }, 'ignored a malformed bus message');
    }
    if (wire.from === id) return;
    if (wire.resync) return resync();
    deliver(wire.topic, wire.payload);
  });

  const subscribe = (topics: string[]): void => {
    subscriber.subscribe(...topics.map((topic) => prefix + topic)).catch((error) => logger.warn({ err: error, topics }, 'Redis subscribe failed'));
  };
  const subscribeAll = (): void => subscribe([...channels]);
  const listen = (topic: string): void => {
    if (channels.has(topic)) return;
    channels.add(topic);
    subscribe([topic]);
  };
  listen(CONTROL_TOPIC);

  const send = (wire: Wire): void => {
    if (publisher.status !== 'ready') {
      publishMissed = true;
      return;
    }
    publisher.publish(prefix + wire.topic, JSON.stringify(wire)).catch(() => {
      publishMissed = true;
    });
  };

  return {
    listen,
    publish: (topic: string, payload: unknown) => send({ from: id, topic, payload }),
    async check() {
      if (subscriber.status !== 'ready') throw new Error(`Redis subscriber is ${subscriber.status}`);
      await publisher.ping();
    },
    close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
