/**
 * The load balancer for real: three replicas (real processes on one database and one Redis)
 * behind Debian's nginx running deploy/nginx.conf, the file docker-compose.yml mounts. Under a
 * steady mix of GET queries, POST queries and mutations it shows: requests spread over every
 * replica; WebSocket subscriptions and Server-Sent Events streams pass through (each event as it
 * happens, and a stream that stopped reading is cut off by its replica); a replica that cannot reach the database
 * (its /api/ready says 503, its requests 503) leaves rotation after its first failure and
 * rejoins; a SIGTERMed replica drains with no failed request; a SIGKILLed one fails at most the
 * requests it had in flight; and subscribers over both transports, reconnecting through nginx
 * and resuming with `after`, end with every event exactly once, in order.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { nginxInstalled, startNginx, type Nginx } from '../support/nginx.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { createdInOrder, uuidOf } from '../support/replica-pair.js';
import { redisEnv, redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const FAIL_TIMEOUT_MS = 5_000;

/** A TCP pass-through to PostgreSQL that a test can cut (a replica partitioned from its database) and restore. */
async function cuttableLink(target: URL): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      }).listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen();
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), cut, restore: listen, close: cut };
}

interface Outcome {
  kind: 'get' | 'post' | 'mutation';
  ok: boolean;
  status: number;
  startedAt: number;
  endedAt: number;
}

/**
 * A subscriber to every workflow event through nginx, over a WebSocket or a Server-Sent Events
 * stream (each with its library's own client), that, when its connection goes, reconnects and
 * resumes after the last cursor it saw.
 */
function resumingSubscriber(url: string, token: string, transport: 'websocket' | 'sse' = 'websocket') {
  // Both clients send this same payload object again on every retry: `after` moves with what arrived.
  const variables: { after: string | null } = { after: null };
  const seen: string[] = [];
  const errors: unknown[] = [];
  let reconnects = 0;
  const retryWait = () => sleep(50 + Math.random() * 100);
  const client = transport === 'sse'
    ? createSseClient({
        url: `${url}/graphql/stream`,
        headers: { authorization: `Bearer ${token}` },
        retryAttempts: 100,
        retry: retryWait,
        on: { connected: (retrying) => void (retrying && reconnects++) },
      })
    : createClient({
        url: `${url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 100,
        shouldRetry: () => true,
        retryWait,
        on: { connected: (_socket, _payload, retrying) => void (retrying && reconnects++) },
      });
  client.subscribe<{ workflowEvents: { cursor: string; kind: string; workflowId: string } }>(
    { query: 'subscription ($after: String) { workflowEvents(after: $after) { cursor kind workflowId } }', variables },
    {
      next: ({ data, errors: errs }) => {
        if (errs) errors.push(...errs);
        if (!data) return;
        if (data.workflowEvents.kind === 'CREATED') seen.push(uuidOf(data.workflowEvents.workflowId));
        variables.after = data.workflowEvents.cursor;
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { seen, errors, reconnects: () => reconnects, dispose: () => client.dispose() };
}

describe.skipIf(!redisUrl || !nginxInstalled())('nginx in front of three replicas (deploy/nginx.conf)', () => {
  let database: TestDatabase;
  let link: Awaited<ReturnType<typeof cuttableLink>>;
  const replicas: Record<'a' | 'b' | 'c', ServerProcess | null> = { a: null, b: null, c: null };
  const ports: Record<'a' | 'b' | 'c', number> = { a: 0, b: 0, c: 0 };
  let nginx: Nginx;
  let token: string;
  let sequence = 0;
  // A small WS_MAX_BUFFERED_BYTES: a stream that stopped reading is cut off after a few batches.
  const env = { ...redisEnv(), RATE_LIMIT_PER_MINUTE: '0', TRUST_PROXY_HOPS: '1', CACHE_TTL_SECONDS: '0', WS_MAX_BUFFERED_BYTES: '65536' };
  const start = async (name: 'a' | 'b' | 'c', extra: Record<string, string> = {}) => {
    replicas[name] = await startServerProcess({ ...env, INSTANCE_ID: `replica-${name}`, ...extra }, { database, port: ports[name] || undefined, startTimeoutMs: 60_000 });
    ports[name] = Number(new URL(replicas[name]!.url).port);
  };
  const address = (name: 'a' | 'b' | 'c') => `127.0.0.1:${ports[name]}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    link = await cuttableLink(new URL(database.url));
    // At once: one migrates, the others wait for its lock.
    await Promise.all([start('a'), start('b'), start('c', { DATABASE_URL: link.url })]);
    nginx = await startNginx([address('a'), address('b'), address('c')]);
    token = replicas.a!.adminToken;
  }, 90_000);
  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(Object.values(replicas).map((replica) => replica?.stop()));
    await link?.close();
    await database?.drop();
  });

  const graphql = async (kind: Outcome['kind']): Promise<{ status: number; ok: boolean }> => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const query = '{ viewer { email } }';
    const response = await (kind === 'get'
      ? fetch(`${nginx.url}/graphql?query=${encodeURIComponent(query)}`, { headers })
      : fetch(`${nginx.url}/graphql`, {
          method: 'POST',
          headers,
          body: JSON.stringify(
            kind === 'post'
              ? { query }
              : { query: 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', variables: { input: { name: `w-${++sequence}`, tasks: [] } } },
          ),
        }));
    const body = (await response.json().catch(() => null)) as { data?: unknown; errors?: unknown[] } | null;
    return { status: response.status, ok: response.status === 200 && !!body?.data && !body.errors };
  };

  /** Runs `concurrency` loops of GET queries, POST queries and mutations through nginx while `during` runs, and a little after. */
  const underLoad = async (during: () => Promise<void>, concurrency = 4): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    let running = true;
    const kinds: Outcome['kind'][] = ['get', 'post', 'mutation'];
    const loops = Array.from({ length: concurrency }, async (_, i) => {
      for (let n = i; running; n++) {
        const kind = kinds[n % kinds.length];
        const startedAt = performance.now();
        const result = await graphql(kind).catch(() => ({ status: 0, ok: false }));
        outcomes.push({ kind, ...result, startedAt, endedAt: performance.now() });
      }
    });
    await sleep(300);
    await during();
    await sleep(500);
    running = false;
    await Promise.all(loops);
    return outcomes;
  };
  const failed = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok);
  const instances = async (count: number) => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const health = (await (await fetch(`${nginx.url}/api/health`)).json()) as { instance: string };
      seen[health.instance] = (seen[health.instance] ?? 0) + 1;
    }
    return seen;
  };

  const subscribers: Array<ReturnType<typeof resumingSubscriber>> = [];
  /** Open SSE streams on each replica (its sse_streams gauge). */
  const sseStreams = () =>
    Promise.all((['a', 'b', 'c'] as const).map(async (name) => {
      const metrics = await (await fetch(`${replicas[name]!.url}/api/metrics`)).text();
      return Number(metrics.match(/^sse_streams(?:\{[^}]*\})? (\d+)/m)?.[1] ?? NaN);
    }));

  it('should spread requests over all three replicas, round robin', async () => {
    expect(await instances(30)).toEqual({ 'replica-a': 10, 'replica-b': 10, 'replica-c': 10 });
    const before = nginx.requests().length;
    expect(failed(await underLoad(async () => sleep(500)))).toEqual([]);
    const served = new Set(nginx.requests().slice(before).flatMap((r) => r.upstreams));
    expect([...served].sort()).toEqual([address('a'), address('b'), address('c')].sort());
  });

  it('should pass WebSocket subscriptions through to every replica', async () => {
    // Six sockets, opened one by one: two on each replica.
    for (let i = 0; i < 6; i++) {
      subscribers.push(resumingSubscriber(nginx.url, token));
      await sleep(50);
    }
    // Each has seen an event (so it has a cursor to resume from) before anything goes wrong.
    await waitFor('every subscriber to see an event', async () => {
      await graphql('mutation');
      return subscribers.every((s) => s.seen.length > 0);
    }, 20_000, 200);
    const connections = await Promise.all((['a', 'b', 'c'] as const).map(async (name) => {
      const metrics = await (await fetch(`${replicas[name]!.url}/api/metrics`)).text();
      return Number(metrics.match(/^websocket_connections(?:\{[^}]*\})? (\d+)/m)?.[1] ?? NaN);
    }));
    expect(connections).toEqual([2, 2, 2]);
  });

  it('should pass Server-Sent Events streams through to every replica, each event as it happens', async () => {
    // Three streams, opened one by one: one on each replica.
    const streams: Array<ReturnType<typeof resumingSubscriber>> = [];
    for (let i = 0; i < 3; i++) {
      const subscriber = resumingSubscriber(nginx.url, token, 'sse');
      streams.push(subscriber);
      await waitFor('the stream to open', async () => (await sseStreams()).reduce((n, count) => n + count, 0) === i + 1, 10_000, 20);
    }
    expect(await sseStreams()).toEqual([1, 1, 1]);
    // Each event reaches every stream as it happens: nothing waits in nginx for more to come.
    for (let i = 0; i < 2; i++) {
      const before = streams.map((s) => s.seen.length);
      await graphql('mutation');
      await waitFor('the event on every stream', async () => streams.every((s, n) => s.seen.length > before[n]), 5_000, 10);
    }
    subscribers.push(...streams);
  });

  it('should let the replica cut off, through nginx, a stream whose reader stopped reading', async () => {
    // The replica sees the reader fall behind (WS_MAX_BUFFERED_BYTES) through nginx too.
    const name = `slow-${'n'.repeat(190)}`;
    const push = (count: number) =>
      fetch(`${replicas.a!.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }',
          variables: { s: Array.from({ length: count }, (_, i) => ({ name, service: 's'.repeat(200), value: i })) },
        }),
      });
    const before = (await sseStreams()).reduce((n, count) => n + count, 0);
    let received = 0;
    const slow = httpRequest(`${nginx.url}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    slow.on('error', () => undefined);
    slow.end(JSON.stringify({ query: `subscription { metricSampled(names: ["${name}"]) { name service value } }` }));
    const response = await new Promise<IncomingMessage>((resolve) => slow.once('response', resolve));
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    response.on('error', () => undefined);
    await waitFor('the slow reader to get a first sample', async () => {
      await push(1);
      return received > 100;
    }, 10_000, 50);
    expect((await sseStreams()).reduce((n, count) => n + count, 0)).toBe(before + 1);
    response.pause();
    slow.socket?.pause();
    await waitFor('the replica to cut the slow reader off', async () => {
      await push(2_000);
      return (await sseStreams()).reduce((n, count) => n + count, 0) === before;
    }, 30_000, 0);
    slow.destroy();
  });

  it('should take a replica that cannot reach the database (ready 503) out of rotation, and back', async () => {
    await link.cut();
    // Restored whatever happens here: the tests after this one need C back.
    try {
      await waitFor('replica C to report not ready', async () => (await fetch(`${replicas.c!.url}/api/ready`)).status === 503, 10_000, 50);
      const before = nginx.requests().length;
      const startedAt = performance.now();
      const outcomes = await underLoad(() => sleep(2_000));
      // On a loaded machine the load can outlast fail_timeout, after which nginx tries C once more.
      const retries = Math.floor((performance.now() - startedAt) / FAIL_TIMEOUT_MS);
      const log = nginx.requests().slice(before);
      // nginx never asks /api/ready: C leaves rotation when a request gets its 503 (max_fails=1).
      const triedOnC = log.filter((r) => r.upstreams.includes(address('c')));
      expect(triedOnC.length).toBeGreaterThan(0);
      expect(triedOnC.every((r) => r.upstreamStatuses[r.upstreams.indexOf(address('c'))] === '503')).toBe(true);
      // For fail_timeout it gets nothing more: only the requests already sent to it when the
      // first 503 came back (at most the 4 in flight), and one try per fail_timeout after.
      expect(triedOnC.length).toBeLessThanOrEqual(4 + retries);
      // A GET is repeated on the next replica; a POST is not sent twice (it could be a mutation).
      const failures = failed(outcomes);
      expect(failures.filter((o) => o.kind === 'get')).toEqual([]);
      expect(failures.every((o) => o.status === 503)).toBe(true);
      expect(failures.length).toBeLessThanOrEqual(4 + retries);
      expect(outcomes.length - failures.length).toBeGreaterThan(20);
    } finally {
      await link.restore();
    }
    await waitFor('replica C to be ready again', async () => (await fetch(`${replicas.c!.url}/api/ready`)).status === 200, 15_000, 50);
    // Once fail_timeout has passed, C's next turn succeeds and it is back in rotation.
    await sleep(FAIL_TIMEOUT_MS);
    const served = await instances(30);
    expect(Object.keys(served).sort()).toEqual(['replica-a', 'replica-b', 'replica-c']);
    expect(Object.values(served).every((n) => n >= 8)).toBe(true);
  });

  it('should drain a SIGTERMed replica with no failed request', async () => {
    const a = replicas.a!;
    const outcomes = await underLoad(async () => {
      a.child.kill('SIGTERM');
      expect(await a.exited).toEqual({ code: 0, signal: null });
    });
    expect(failed(outcomes)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20);
    await a.stop();
    replicas.a = null;
  });

  it('should fail at most the in-flight requests of a SIGKILLed replica, and none after', async () => {
    const b = replicas.b!;
    let deadAt = 0;
    const concurrency = 6;
    const outcomes = await underLoad(async () => {
      await sleep(200);
      b.child.kill('SIGKILL');
      await b.exited;
      // Gone now: the kernel has reset its connections and refuses new ones.
      deadAt = performance.now();
      await sleep(1_000);
    }, concurrency);
    const failures = failed(outcomes);
    // What failed was on B when it died: nginx answers 502 for a request it had sent (it does
    // not repeat a POST), and sends every later one elsewhere.
    expect(failures.length).toBeLessThanOrEqual(concurrency);
    expect(failures.every((o) => o.startedAt <= deadAt && o.endedAt >= deadAt - 1_000 && o.status === 502)).toBe(true);
    expect(outcomes.filter((o) => o.startedAt > deadAt).length).toBeGreaterThan(10);
    await b.stop();
    replicas.b = null;
  });

  it('should have every subscriber reconnect and resume with every event exactly once, in order', async () => {
    expect(subscribers.reduce((n, s) => n + s.reconnects(), 0)).toBeGreaterThanOrEqual(4);
    const created = await createdInOrder(database.url);
    await waitFor('every subscriber to catch up', async () => subscribers.every((s) => s.seen.at(-1) === created.at(-1)), 15_000, 50);
    for (const subscriber of subscribers) {
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.seen).toEqual(created.slice(created.indexOf(subscriber.seen[0])));
    }
    await Promise.all(subscribers.map((s) => s.dispose()));
  });
});
