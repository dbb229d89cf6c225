/**
 * `npm run bench:fanout`: subscription fan-out. N graphql-ws clients, in a separate process
 * (bench/fanout-clients.ts), all signed in as the bench admin and subscribed to
 * `workflowEvents(workflowId:)` of one workflow on the real server; each event is one mutation
 * (the workflow's only task claimed, or failed back to READY: one TASK_UPDATED event each).
 * Against it, in the same run, N more of the same graphql-ws clients (same subscribe message)
 * of a bare `ws` server (bench/bare-broadcast-server.ts: the graphql-ws handshake and nothing
 * else) that, when the parent POSTs it to /broadcast, sends every socket the real server's
 * `next` message, captured first: every client uses the subscription id `fanout`, so those are
 * the same bytes, and the clients do the same work for either server.
 *
 * Per event: time from sending the mutation (or the broadcast request) until the LAST of the N
 * clients has it, on the monotonic clock both processes share; events one at a time, the two
 * targets alternating. Memory, each server after a warm-up and then with the N sockets connected
 * and idle, the difference divided by N, two ways: heap used + external after full GCs forced
 * through the inspector (what the subscriptions hold; both servers run with --inspect on a free
 * local port for this, nothing else differs from the product's flags), and RSS from /proc as it
 * is (what the OS pays: the young generation's growth and garbage not yet collected included),
 * read after a warm-up GC and an idle wait, then after connecting and an idle wait, and RSS
 * right after the full GCs of each heap reading (V8 gives back the young generation's growth).
 * A fresh server, bare server and client process per N, on a fresh database
 * `wf_bench_fanout` (DATABASE_URL's server), dropped at the end. Prints Markdown for RESULTS.md.
 *
 * Settings: BENCH_FANOUT_CLIENTS ("1000,5000"), BENCH_FANOUT_EVENTS (20 per target and N),
 * BENCH_FANOUT_BATCH (200 sockets opened at a time), BENCH_FANOUT_IDLE_SECONDS (5: the wait
 * before each memory reading), BENCH_CPU_PROF (a folder: the real server writes a --cpu-prof profile there),
 * BENCH_BARE_SEND (`send` or `frame`: the bare server's loop, see bench/bare-broadcast-server.ts).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command, Reply } from './fanout-clients.js';
import { backendCpuStopwatch, cpuMs, fixed, machine, percentile, rssKb } from './measure.js';
import { forkBenchScript, heapInspector, startBareBroadcastServer, startRealServer, type HeapAfterGc, type Target } from './processes.js';
import { databaseOnServer, dropDatabase, recreateDatabase } from './seed.js';

const env = process.env;
const sizes = (env.BENCH_FANOUT_CLIENTS ?? '1000,5000').split(',').map(Number);
const events = Number(env.BENCH_FANOUT_EVENTS ?? 20);
const batch = Number(env.BENCH_FANOUT_BATCH ?? 200);
const idleMs = Number(env.BENCH_FANOUT_IDLE_SECONDS ?? 5) * 1000;
const WARM_UP_CLIENTS = 20;
const PAUSE_MS = 200;
/** how long to wait for the last client before sending another event while subscriptions are set up */
const SETTLE_MS = 10_000;
const EVENT_TIMEOUT_MS = 60_000;

const SUBSCRIPTION = 'subscription ($id: ID!) { workflowEvents(workflowId: $id) { kind cursor workflowId workflow { id name status } } }';
const CLAIM = 'mutation ($queue: String!) { claimTask(queue: $queue) { id } }';
const FAIL = 'mutation ($id: ID!) { failTask(id: $id, error: "fan-out") { id } }';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const log = (message: string) => console.error(`[fanout] ${message}`);

async function graphql<T>(server: Target, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: server.headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`GraphQL request failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * A started workflow with one task (its own queue, 100 attempts) that each `emit()` moves
 * READY → RUNNING (claimTask) or back (failTask): exactly one TASK_UPDATED event per mutation.
 * The first claim also starts the workflow (a second event); that happens here, before anyone listens.
 */
async function eventSource(server: Target): Promise<{ workflowId: string; emit: () => Promise<void> }> {
  const queue = `fanout-${randomBytes(4).toString('hex')}`;
  const { createWorkflow: workflow } = await graphql<{ createWorkflow: { id: string; tasks: { id: string }[] } }>(
    server,
    'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id tasks { id } } }',
    { input: { name: 'fan-out', tasks: [{ name: 'flip', queue, maxAttempts: 100 }] } },
  );
  await graphql(server, 'mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: workflow.id });
  let running = false;
  const emit = async () => {
    if (running) await graphql(server, FAIL, { id: workflow.tasks[0].id });
    else if (!(await graphql<{ claimTask: unknown }>(server, CLAIM, { queue })).claimTask) throw new Error('claimTask found no READY task');
    running = !running;
  };
  await emit();
  await emit();
  return { workflowId: workflow.id, emit };
}

/** The client process and its replies, by op and fleet. A `failed` reply fails every wait. */
class Clients {
  private readonly worker = forkBenchScript('bench/fanout-clients.ts');
  private readonly waiting = new Map<string, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private failure?: Error;
  readonly pid = this.worker.child.pid!;

  constructor() {
    this.worker.child.on('message', (reply: Reply) => {
      if (reply.op === 'failed') return this.fail(new Error(`client process, fleet ${reply.fleet}: ${reply.message}`));
      const key = `${reply.op} ${reply.fleet}`;
      this.waiting.get(key)?.resolve(reply);
      this.waiting.delete(key);
    });
    this.worker.child.on('exit', (code, signal) => this.fail(new Error(`client process exited (${code ?? signal})`)));
    this.worker.child.on('error', (error) => this.fail(error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }

  /** The next reply of this op for this fleet. Never an unhandled rejection: a wait abandoned by an error elsewhere is rejected when the process goes. */
  next<R extends Reply>(op: R['op'], fleet: string): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<R>((resolve, reject) => this.waiting.set(`${op} ${fleet}`, { resolve: resolve as (reply: Reply) => void, reject }));
    reply.catch(() => undefined);
    return reply;
  }

  request<R extends Reply>(command: Command): Promise<R> {
    const answer = this.next<R>(command.op, command.fleet);
    this.worker.child.send(command);
    return answer;
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}

type Landed = Extract<Reply, { op: 'landed' }>;

/** Resolves with the promise's value, or undefined after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let expire!: () => void;
  const expired = new Promise<undefined>((resolve) => (expire = () => resolve(undefined)));
  const timer = setTimeout(expire, ms);
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

interface Side {
  name: string;
  pid: number;
  /** how the client process connects a fleet to this side */
  connect: Omit<Extract<Command, { op: 'connect' }>, 'op' | 'fleet' | 'count' | 'batch'>;
  /** sends one event to every subscriber */
  trigger: () => Promise<void>;
  /** the real server's PostgreSQL backends */
  database?: Pick<Target, 'backendPids'>;
  /** reads the heap after full GCs */
  heap: () => Promise<HeapAfterGc>;
}

/** Connects `count` clients as `fleet` and sends events until every one of them has one (subscriptions are set up asynchronously). */
async function connectFleet(clients: Clients, side: Side, fleet: string, count: number): Promise<Landed> {
  await clients.request({ op: 'connect', fleet, count, batch, ...side.connect });
  // A `landed` can only follow the trigger, so waiting for it starts once armed.
  await clients.request({ op: 'arm', fleet });
  const landed = clients.next<Landed>('landed', fleet);
  for (let attempt = 1; ; attempt++) {
    await side.trigger();
    const done = await within(landed, SETTLE_MS);
    if (done) return done;
    const status = await clients.request<Extract<Reply, { op: 'status' }>>({ op: 'status', fleet });
    if (attempt === 10) throw new Error(`${side.name}: ${status.received} of ${count} clients got an event after ${attempt} events`);
    log(`${side.name}: ${status.received} of ${count} clients have an event ${attempt * SETTLE_MS / 1000} s after the first, sending another`);
  }
}

interface Event {
  /** trigger sent → first, median and last client has it (ms) */
  first: number;
  median: number;
  last: number;
  /** the trigger's own response time (ms) */
  response: number;
  /** CPU (ms) during the event: the server, its PostgreSQL backends, the client process */
  serverCpu: number;
  databaseCpu: number;
  clientCpu: number;
}

async function timedEvent(clients: Clients, side: Side, fleet: string): Promise<Event> {
  const databaseCpu = side.database && (await backendCpuStopwatch(side.database));
  await clients.request({ op: 'arm', fleet });
  const landed = clients.next<Landed>('landed', fleet);
  const [serverCpu, clientCpu] = [cpuMs(side.pid), cpuMs(clients.pid)];
  const sent = now();
  await side.trigger();
  const response = now() - sent;
  const result = await within(landed, EVENT_TIMEOUT_MS);
  if (!result) {
    const status = await clients.request<Extract<Reply, { op: 'status' }>>({ op: 'status', fleet });
    throw new Error(`${side.name}: only ${status.received} of ${status.count} clients got the event within ${EVENT_TIMEOUT_MS} ms`);
  }
  return {
    first: result.first - sent, median: result.median - sent, last: result.last - sent, response,
    serverCpu: cpuMs(side.pid) - serverCpu, clientCpu: cpuMs(clients.pid) - clientCpu, databaseCpu: databaseCpu ? await databaseCpu() : 0,
  };
}

interface Result {
  n: number;
  side: string;
  events: Event[];
  connectSeconds: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  /** heap used + external after full GCs, and RSS right after them */
  heapBeforeKb: number;
  heapAfterKb: number;
  rssGcBeforeKb: number;
  rssGcAfterKb: number;
  payloadBytes: number;
}

/** Each side's heap used + external (KB) after full GCs, and its RSS right after them. */
async function heapsKb(sides: Side[]): Promise<Array<{ heap: number; rss: number }>> {
  const heaps: Array<{ heap: number; rss: number }> = [];
  for (const side of sides) {
    const heap = await side.heap();
    heaps.push({ heap: (heap.heapUsed + heap.external) / 1024, rss: heap.rss / 1024 });
  }
  return heaps;
}

/** One N: a fresh server, bare server and client process; warm-up, memory, then the events, alternating. */
async function run(n: number, databaseUrl: string): Promise<Result[]> {
  // What is running, stopped in reverse order whatever happens.
  const stops: Array<() => Promise<void>> = [];
  try {
    const [serverHeap, bareHeap] = [await heapInspector(), await heapInspector()];
    const server = await startRealServer({
      databaseUrl,
      env: { SAMPLE_INTERVAL_SECONDS: '3600', ALERT_EVAL_INTERVAL_SECONDS: '3600' },
      nodeArgs: [...serverHeap.nodeArgs, ...(env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [])],
    });
    stops.push(server.stop);
    const bare = await startBareBroadcastServer(bareHeap.nodeArgs);
    stops.push(bare.stop);
    const clients = new Clients();
    stops.push(() => clients.stop());
    const source = await eventSource(server);
    // Both fleets send the same subscribe message; the bare server ignores it.
    const subscribe = { query: SUBSCRIPTION, variables: { id: source.workflowId } };
    let message = '';
    const sides: Side[] = [
      {
        name: 'server',
        pid: server.pid,
        connect: { url: `${server.url.replace(/^http/, 'ws')}/graphql`, authorization: server.headers.authorization, ...subscribe },
        trigger: source.emit,
        database: server,
        heap: serverHeap.afterGc,
      },
      {
        name: 'bare',
        pid: bare.pid,
        connect: { url: bare.url.replace(/^http/, 'ws'), ...subscribe },
        trigger: async () => {
          const response = await fetch(`${bare.url}/broadcast`, { method: 'POST', body: message });
          if (response.status !== 204) throw new Error(`broadcast failed: ${response.status}`);
        },
        heap: bareHeap.afterGc,
      },
    ];
    // Warm-up: a few clients get a few events from each, then leave. The real server's `next`
    // message (the real server goes first) is the bare message.
    for (const side of sides) {
      const fleet = `${side.name} warm-up`;
      const landed = await connectFleet(clients, side, fleet, WARM_UP_CLIENTS);
      message ||= landed.message;
      for (let i = 0; i < 3; i++) await timedEvent(clients, side, fleet);
      await clients.request({ op: 'close', fleet });
    }
    // The GCs of the first heap reading are behind both RSS readings alike.
    await sleep(idleMs);
    const heapBefore = await heapsKb(sides);
    await sleep(idleMs);
    const rssBefore = sides.map((side) => rssKb(side.pid));

    const connectSeconds: number[] = [];
    for (const side of sides) {
      log(`N=${n}: connecting ${side.name}`);
      const started = now();
      await connectFleet(clients, side, side.name, n);
      connectSeconds.push((now() - started) / 1000);
    }
    await sleep(idleMs);
    const rssAfter = sides.map((side) => rssKb(side.pid));
    const heapAfter = await heapsKb(sides);

    const timed: Event[][] = sides.map(() => []);
    for (let i = 0; i < events; i++) {
      for (const s of i % 2 ? [1, 0] : [0, 1]) {
        timed[s].push(await timedEvent(clients, sides[s], sides[s].name));
        await sleep(PAUSE_MS);
      }
    }
    log(`N=${n}: done`);
    return sides.map((side, s) => ({
      n, side: side.name, events: timed[s], connectSeconds: connectSeconds[s],
      rssBeforeKb: rssBefore[s], rssAfterKb: rssAfter[s], heapBeforeKb: heapBefore[s].heap, heapAfterKb: heapAfter[s].heap,
      rssGcBeforeKb: heapBefore[s].rss, rssGcAfterKb: heapAfter[s].rss, payloadBytes: Buffer.byteLength(message),
    }));
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

const stat = (events: Event[], key: keyof Event, p: number) => percentile(events.map((e) => e[key]).sort((a, b) => a - b), p);
const mean = (events: Event[], key: keyof Event) => events.reduce((sum, e) => sum + e[key], 0) / events.length;
const BARE_LOOP = env.BENCH_BARE_SEND === 'frame' ? 'one prebuilt frame written to each TCP socket' : '`socket.send` of one prebuilt buffer';
const LABEL: Record<string, string> = { server: 'server (graphql-ws, `workflowEvents`)', bare: `bare \`ws\` broadcast (graphql-ws handshake only; ${BARE_LOOP})` };

function report(results: Result[], startLoad: string): string {
  const lines = [
    `### Subscription fan-out — ${new Date().toISOString()}`,
    '',
    `${machine()} (at the start: ${startLoad}); ${events} events per target and N, one at a time, targets alternating; ` +
      `message ${results[0].payloadBytes} bytes; p99 of ${events} events (nearest rank) is their maximum`,
    '',
    'Memory per subscription (bare: per connection), growth from after the warm-up to N idle, / N: heap used + external after full GCs, RSS right after those GCs, and RSS as it is after an idle wait.',
    '',
    '| N | target | p50 ms | p99 ms | ratio to bare p50 / p99 | heap after GC KB per subscription | RSS after GC KB per subscription | RSS as it is KB per subscription |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const result of results) {
    const bare = results.find((r) => r.n === result.n && r.side === 'bare')!;
    const ratio = result === bare ? '' : `**${fixed(stat(result.events, 'last', 50) / stat(bare.events, 'last', 50), 2)}** / **${fixed(stat(result.events, 'last', 99) / stat(bare.events, 'last', 99), 2)}**`;
    lines.push(
      `| ${result.n} | ${LABEL[result.side]} | ${fixed(stat(result.events, 'last', 50))} | ${fixed(stat(result.events, 'last', 99))} | ${ratio} ` +
        `| ${fixed((result.heapAfterKb - result.heapBeforeKb) / result.n)} | ${fixed((result.rssGcAfterKb - result.rssGcBeforeKb) / result.n)} | ${fixed((result.rssAfterKb - result.rssBeforeKb) / result.n)} |`,
    );
  }
  lines.push(
    '',
    'Details: the same events. "first client" is trigger sent → the first of the N has it; "trigger response" is the ' +
      "mutation's (or the broadcast request's) own response time; CPU is per event (mean), from /proc, the server's and PostgreSQL's including the mutation.",
    '',
    '| N | target | first client p50 ms | median client p50 ms | trigger response p50 ms | server CPU ms | PostgreSQL CPU ms | client process CPU ms | connect + subscribe s | server RSS before → idle MB | heap after GC before → idle MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const result of results) {
    lines.push(
      `| ${result.n} | ${result.side} | ${fixed(stat(result.events, 'first', 50))} | ${fixed(stat(result.events, 'median', 50))} | ${fixed(stat(result.events, 'response', 50))} ` +
        `| ${fixed(mean(result.events, 'serverCpu'))} | ${result.side === 'bare' ? '' : fixed(mean(result.events, 'databaseCpu'))} | ${fixed(mean(result.events, 'clientCpu'))} | ${fixed(result.connectSeconds)} ` +
        `| ${fixed(result.rssBeforeKb / 1024)} → ${fixed(result.rssAfterKb / 1024)} | ${fixed(result.heapBeforeKb / 1024)} → ${fixed(result.heapAfterKb / 1024)} |`,
    );
  }
  return lines.join('\n');
}

const startLoad = `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const databaseUrl = databaseOnServer('wf_bench_fanout');
await recreateDatabase(databaseUrl);
try {
  const results: Result[] = [];
  for (const n of sizes) results.push(...(await run(n, databaseUrl)));
  console.log(`\n${report(results, startLoad)}`);
} finally {
  await dropDatabase(databaseUrl);
}
