/**
 * The graphql-transport-ws protocol on its own (live/ws/protocol.ts): a fake socket, a fixture
 * schema whose subscription is an async generator the test drives, no database, no network.
 * The socket tests beside this one run the same protocol through `ws` and the whole app.
 */
import { buildSchema } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Role, type Viewer } from '../../src/core/viewer.js';
import { createSubscriptionGroups } from '../../src/live/groups.js';
import { createProtocol, type Protocol, type ProtocolConnection, type ProtocolLimits, type ProtocolOptions, type ProtocolSocket } from '../../src/live/ws/protocol.js';

const VIEWER: Viewer = {
  id: 'u1',
  email: 'ada@example.com',
  name: 'Ada',
  role: Role.ADMIN,
  credentialId: 'c1',
  credentialKind: 'api-token',
  credentialName: 'test',
};

const LIMITS: ProtocolLimits = {
  queryDepth: 10,
  queryAliases: 10,
  queryDirectives: 10,
  queryCost: 10_000,
  introspection: true,
  queryTokens: 1_000,
  responseBytes: 1_000_000,
  queryTimeoutMs: 5_000,
  wsInitTimeoutMs: 5_000,
  wsMaxSubscriptions: 10,
  wsCredentialRecheckMs: 60_000,
  wsMaxBufferedBytes: 1_000_000,
};

/**
 * Events of `ticks` subscriptions, pushed by the test; counts the streams started and ended.
 * An iterator rather than a generator: a generator's `return` waits for the `next` it is
 * suspended in, while the app's streams (the event feed's) end at once.
 */
function channel() {
  const stats = { started: 0, ended: 0 };
  const streams = new Set<(value: number) => void>();
  return {
    stats,
    /** hands `value` to every open stream (each reads it from its own queue) */
    push(value: number) {
      for (const deliver of streams) deliver(value);
    },
    stream(): AsyncIterableIterator<{ n: number }> {
      stats.started++;
      const queued: number[] = [];
      let waiting: ((result: IteratorResult<{ n: number }>) => void) | undefined;
      const deliver = (value: number) => {
        if (waiting) waiting({ done: false, value: { n: value } });
        else queued.push(value);
        waiting = undefined;
      };
      streams.add(deliver);
      const iterator: AsyncIterableIterator<{ n: number }> = {
        next: () => {
          if (!streams.has(deliver)) return Promise.resolve({ done: true, value: undefined });
          if (queued.length) return Promise.resolve({ done: false, value: { n: queued.shift()! } });
          return new Promise((resolve) => (waiting = resolve));
        },
        return: () => {
          if (streams.delete(deliver)) stats.ended++;
          waiting?.({ done: true, value: undefined });
          waiting = undefined;
          return Promise.resolve({ done: true, value: undefined });
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
  };
}

/** A query the test answers by hand. */
function gate() {
  let open!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (open = resolve));
  return { promise, open };
}

function fixtureSchema(ticks: ReturnType<typeof channel>, slow: { current: Promise<string> }) {
  const schema = buildSchema(`
    type Query { hello: String, slow: String }
    type Subscription { count(to: Int!): Int, ticks: Int }
  `);
  const query = schema.getQueryType()!.getFields();
  query.hello.resolve = () => 'world';
  query.slow.resolve = () => slow.current;
  const subscription = schema.getSubscriptionType()!.getFields();
  subscription.count.subscribe = async function* (_root, { to }: { to: number }) {
    for (let n = 1; n <= to; n++) yield { n };
  };
  subscription.count.resolve = (event: { n: number }) => event.n;
  subscription.ticks.subscribe = () => ticks.stream();
  subscription.ticks.resolve = (event: { n: number }) => event.n;
  return schema;
}

type Message = { type: string; id?: string; payload?: unknown };

/** A socket that records what the protocol sends, and tells it of its close as `ws` would (later). */
class FakeSocket implements ProtocolSocket {
  open = true;
  bufferedAmount = 0;
  readonly sent: Message[] = [];
  closedWith: { code: number; reason: string } | null = null;
  connection!: ProtocolConnection;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Message);
  }
  sendJoined(prefix: Buffer, payload: Buffer): void {
    this.send(`${prefix}${payload}}`);
  }
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.closedWith = { code, reason };
    setImmediate(() => this.connection.closed());
  }
  terminate(): void {
    this.close(1006, 'terminated');
  }
}

const protocols: Protocol[] = [];
afterEach(() => protocols.splice(0).forEach((protocol) => protocol.stop()));

function setup(limits: Partial<ProtocolLimits> = {}, options: Partial<ProtocolOptions<unknown>> = {}) {
  const ticks = channel();
  const slow = { current: Promise.resolve('fast') };
  const protocol = createProtocol({
    schema: fixtureSchema(ticks, slow),
    logger: createLogger('silent'),
    limits: { ...LIMITS, ...limits },
    authenticate: async (token) => (token === 'good' ? VIEWER : null),
    overBudget: async () => null,
    createContext: () => ({}),
    audienceOf: () => 'everyone',
    groups: createSubscriptionGroups(),
    ...options,
  });
  protocols.push(protocol);
  const socket = new FakeSocket();
  const connection = protocol.opened(socket, null);
  socket.connection = connection;
  const send = (message: object | string) => connection.message(typeof message === 'string' ? message : JSON.stringify(message));
  const init = async () => {
    await send({ type: 'connection_init', payload: { authorization: 'Bearer good' } });
    expect(socket.sent).toEqual([{ type: 'connection_ack' }]);
    socket.sent.length = 0;
  };
  return { socket, send, init, ticks, slow };
}

const subscribe = (id: string, query: string) => ({ id, type: 'subscribe', payload: { query } });
const next = (id: string, data: unknown) => ({ id, type: 'next', payload: { data } });

describe('graphql-transport-ws protocol', () => {
  it('should acknowledge connection_init with a valid credential, and refuse one that does not check out (4403) or none (4401)', async () => {
    const { socket, init } = setup();
    await init();
    expect(socket.closedWith).toBeNull();

    const bad = setup();
    await bad.send({ type: 'connection_init', payload: { authorization: 'Bearer nope' } });
    expect(bad.socket.closedWith?.code).toBe(4403);
    expect(bad.socket.sent).toEqual([]);

    const none = setup();
    await none.send({ type: 'connection_init' });
    expect(none.socket.closedWith?.code).toBe(4401);
  });

  it('should close with 4429 on a second connection_init', async () => {
    const { socket, send, init } = setup();
    await init();
    await send({ type: 'connection_init', payload: { authorization: 'Bearer good' } });
    expect(socket.closedWith).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
  });

  it('should close with 4401 on a subscribe before the acknowledgement', async () => {
    const { socket, send } = setup();
    await send(subscribe('1', '{ hello }'));
    expect(socket.closedWith?.code).toBe(4401);
    expect(socket.sent).toEqual([]);
  });

  it('should close with 4408 when connection_init does not come in time', async () => {
    const { socket } = setup({ wsInitTimeoutMs: 20 });
    await vi.waitFor(() => expect(socket.closedWith?.code).toBe(4408));
  });

  it.each([
    ['malformed JSON', '{"type": "connection_init"'],
    ['an unknown message type', JSON.stringify({ type: 'hello' })],
    ['a subscribe without an id', JSON.stringify({ type: 'subscribe', payload: { query: '{ hello }' } })],
  ])('should close with 4400 on %s', async (_what, data) => {
    const { socket, send, init } = setup();
    await init();
    await send(data);
    expect(socket.closedWith?.code).toBe(4400);
  });

  it('should answer ping with pong, echoing its payload', async () => {
    const { socket, send } = setup();
    // Before the acknowledgement too: ping is allowed at any time.
    await send({ type: 'ping' });
    await send({ type: 'ping', payload: { at: 1 } });
    await send({ type: 'pong' });
    expect(socket.sent).toEqual([{ type: 'pong' }, { type: 'pong', payload: { at: 1 } }]);
    expect(socket.closedWith).toBeNull();
  });

  it('should answer a query with next and complete, and refuse an invalid one with an error message, keeping the socket', async () => {
    const { socket, send, init } = setup();
    await init();
    await send(subscribe('q', '{ hello }'));
    expect(socket.sent).toEqual([next('q', { hello: 'world' }), { id: 'q', type: 'complete' }]);
    socket.sent.length = 0;
    await send(subscribe('bad', '{ nothing }'));
    expect(socket.sent).toMatchObject([{ id: 'bad', type: 'error', payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }]);
    expect(socket.closedWith).toBeNull();
  });

  it('should send each event of a subscription as next, then complete when its stream ends', async () => {
    const { socket, send, init } = setup();
    await init();
    await send(subscribe('s', 'subscription { count(to: 3) }'));
    await vi.waitFor(() => expect(socket.sent).toHaveLength(4));
    expect(socket.sent).toEqual([next('s', { count: 1 }), next('s', { count: 2 }), next('s', { count: 3 }), { id: 's', type: 'complete' }]);
    // The id is free again once its operation has ended.
    await send(subscribe('s', '{ hello }'));
    expect(socket.sent.slice(4)).toEqual([next('s', { hello: 'world' }), { id: 's', type: 'complete' }]);
  });

  it('should close with 4409 on a subscribe under the id of a running operation', async () => {
    const { socket, send, init, ticks } = setup();
    await init();
    await send(subscribe('1', 'subscription { ticks }'));
    await send(subscribe('1', 'subscription { ticks }'));
    expect(socket.closedWith).toEqual({ code: 4409, reason: 'Subscriber for 1 already exists' });
    // The socket's close ends the running stream.
    await vi.waitFor(() => expect(ticks.stats.ended).toBe(1));
  });

  it('should stop the stream of a subscription the client completes, and send nothing more for it', async () => {
    const { socket, send, init, ticks } = setup();
    await init();
    await send(subscribe('1', 'subscription { ticks }'));
    ticks.push(1);
    await vi.waitFor(() => expect(socket.sent).toEqual([next('1', { ticks: 1 })]));
    await send({ id: '1', type: 'complete' });
    await vi.waitFor(() => expect(ticks.stats.ended).toBe(1));
    ticks.push(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // No `complete` either: the client ended it.
    expect(socket.sent).toEqual([next('1', { ticks: 1 })]);
    expect(socket.closedWith).toBeNull();
  });

  it('should not let an operation that ends remove a newer one the client started under the same id', async () => {
    const { socket, send, init, ticks, slow } = setup();
    await init();
    const answer = gate();
    slow.current = answer.promise;
    const slowQuery = send(subscribe('1', '{ slow }'));
    await send({ id: '1', type: 'complete' });
    await send(subscribe('1', 'subscription { ticks }'));
    await vi.waitFor(() => expect(ticks.stats.started).toBe(1));
    // The old query ends now, after its id was reused.
    answer.open('late');
    await slowQuery;
    expect(socket.sent).toEqual([]);
    ticks.push(7);
    await vi.waitFor(() => expect(socket.sent).toEqual([next('1', { ticks: 7 })]));
    // Still running under its id: a third subscribe under it is a duplicate.
    await send(subscribe('1', '{ hello }'));
    expect(socket.closedWith?.code).toBe(4409);
  });

  it('should cut off a socket whose unsent messages pass the limit', async () => {
    const { socket, send, init } = setup({ wsMaxBufferedBytes: 100 });
    await init();
    socket.bufferedAmount = 101;
    await send(subscribe('q', '{ hello }'));
    expect(socket.closedWith?.code).toBe(1006);
  });

  it('should close with 1013 when signing in fails because the database is unreachable, and 4500 on any other failure', async () => {
    const reported: string[] = [];
    const options = (failure: Error): Partial<ProtocolOptions<unknown>> => ({
      authenticate: async () => {
        throw failure;
      },
      onUnavailable: () => reported.push('unavailable'),
      onInternalError: () => reported.push('internal'),
    });
    const down = setup({}, options(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    await down.send({ type: 'connection_init', payload: { authorization: 'Bearer good' } });
    expect(down.socket.closedWith?.code).toBe(1013);
    const broken = setup({}, options(new Error('bug')));
    await broken.send({ type: 'connection_init', payload: { authorization: 'Bearer good' } });
    expect(broken.socket.closedWith?.code).toBe(4500);
    expect(reported).toEqual(['unavailable', 'internal']);
  });

  it('should refuse an operation past WS_MAX_SUBSCRIPTIONS, and one past the token\'s rate limit, with RATE_LIMITED', async () => {
    let retryAfter: number | null = null;
    const { socket, send, init } = setup({ wsMaxSubscriptions: 1 }, { overBudget: async () => retryAfter });
    await init();
    await send(subscribe('a', 'subscription { ticks }'));
    await send(subscribe('b', 'subscription { ticks }'));
    expect(socket.sent).toMatchObject([{ id: 'b', type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED' } }] }]);
    await send({ id: 'a', type: 'complete' });
    retryAfter = 30;
    await send(subscribe('q', '{ hello }'));
    expect(socket.sent[1]).toMatchObject({ id: 'q', type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED' } }] });
    expect(socket.closedWith).toBeNull();
  });

  it('should close with 4403 the sockets signed in with a credential that is revoked', async () => {
    const { socket, init } = setup();
    await init();
    protocols.at(-1)!.credentialRevoked({ kind: VIEWER.credentialKind, id: VIEWER.credentialId });
    expect(socket.closedWith).toEqual({ code: 4403, reason: 'Credential revoked or expired' });
  });
});
