/**
 * The client side of bench/fanout.ts, in its own process (forked, commands over IPC). It holds
 * named fleets of graphql-ws clients, each with one subscription to the same operation under the
 * fixed id `fanout`, so the real server's `next` message and the bare server's broadcast of the
 * same bytes are the same to every client. Per message the work is minimal (graphql-ws's own
 * JSON parse and validation, then a timestamp), and the same whichever server sent it.
 *
 * Commands (each answered with a message of the same `op` and `fleet`):
 * - `connect`: opens `count` clients, `batch` at a time, each batch acknowledged before the next;
 *   each client subscribes right after creation.
 * - `arm`: the next event each client gets counts; once every client has one, a `landed`
 *   message follows with the first, median and last arrival (`process.hrtime` in ms, the
 *   monotonic clock the parent shares) and the `next` message the first client got, as JSON
 *   text (rebuilt from its payload: the server's own bytes, which it wrote with JSON.stringify).
 * - `status`: how many clients have their event since `arm`, and how many closed unexpectedly.
 * - `close`: closes the fleet's clients.
 * A subscription error or an unexpected close is reported as `failed`. The process exits when
 * the parent goes away.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Command =
  | { op: 'connect'; fleet: string; url: string; count: number; batch: number; authorization?: string; query: string; variables: Record<string, unknown> }
  | { op: 'arm' | 'status' | 'close'; fleet: string };

export type Reply =
  | { op: 'connect' | 'arm' | 'close'; fleet: string }
  | { op: 'landed'; fleet: string; first: number; median: number; last: number; message: string }
  | { op: 'status'; fleet: string; received: number; count: number; closed: number }
  | { op: 'failed'; fleet: string; message: string };

interface Fleet {
  name: string;
  count: number;
  seen: Uint8Array;
  arrivals: Float64Array;
  pending: number;
  armed: boolean;
  closing: boolean;
  closed: number;
  /** the last `next` message client 0 got, as JSON */
  message: string;
  closers: Array<() => unknown>;
}

/** every client's one subscription */
const SUBSCRIPTION_ID = 'fanout';
const fleets = new Map<string, Fleet>();
const now = () => Number(process.hrtime.bigint()) / 1e6;
const reply = (message: Reply) => process.send!(message);

function arrived(fleet: Fleet, i: number): void {
  if (!fleet.armed || fleet.seen[i]) return;
  fleet.seen[i] = 1;
  fleet.arrivals[i] = now();
  if (--fleet.pending) return;
  fleet.armed = false;
  const sorted = fleet.arrivals.slice().sort();
  reply({ op: 'landed', fleet: fleet.name, first: sorted[0], median: sorted[sorted.length >> 1], last: sorted[sorted.length - 1], message: fleet.message });
}

function lost(fleet: Fleet, what: string): void {
  if (fleet.closing) return;
  fleet.closed++;
  reply({ op: 'failed', fleet: fleet.name, message: what });
}

function open(fleet: Fleet, i: number, command: Extract<Command, { op: 'connect' }>): Promise<void> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const client = createClient({
      url: command.url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      generateID: () => SUBSCRIPTION_ID,
      connectionParams: { authorization: command.authorization },
      on: {
        connected: () => {
          connected = true;
          resolve();
        },
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          if (connected) lost(fleet, `client ${i} closed: ${code} ${reason}`);
          else reject(new Error(`client ${i} could not connect: ${code} ${reason}`));
        },
      },
    });
    client.subscribe(
      { query: command.query, variables: command.variables },
      {
        next: (payload) => {
          if (i === 0) fleet.message = JSON.stringify({ id: SUBSCRIPTION_ID, type: 'next', payload });
          arrived(fleet, i);
        },
        error: (error) => lost(fleet, `client ${i} subscription error: ${JSON.stringify(error)}`),
        complete: () => lost(fleet, `client ${i} subscription completed`),
      },
    );
    fleet.closers.push(() => client.dispose());
  });
}

async function handle(command: Command): Promise<void> {
  if (command.op === 'connect') {
    const { count } = command;
    const fleet: Fleet = {
      name: command.fleet, count, seen: new Uint8Array(count), arrivals: new Float64Array(count),
      pending: 0, armed: false, closing: false, closed: 0, message: '', closers: [],
    };
    fleets.set(fleet.name, fleet);
    for (let start = 0; start < count; start += command.batch) {
      const opening: Promise<void>[] = [];
      for (let i = start; i < Math.min(count, start + command.batch); i++) {
        opening.push(open(fleet, i, command));
      }
      await Promise.all(opening);
    }
    reply({ op: 'connect', fleet: fleet.name });
    return;
  }
  const fleet = fleets.get(command.fleet);
  if (!fleet) throw new Error(`no fleet ${command.fleet}`);
  if (command.op === 'arm') {
    fleet.seen.fill(0);
    fleet.pending = fleet.count;
    fleet.armed = true;
    reply({ op: 'arm', fleet: fleet.name });
  } else if (command.op === 'status') {
    reply({ op: 'status', fleet: fleet.name, received: fleet.armed ? fleet.count - fleet.pending : fleet.count, count: fleet.count, closed: fleet.closed });
  } else {
    fleet.closing = true;
    await Promise.all(fleet.closers.map((close) => close()));
    fleets.delete(fleet.name);
    reply({ op: 'close', fleet: fleet.name });
  }
}

process.on('message', (command: Command) => {
  handle(command).catch((error: Error) => reply({ op: 'failed', fleet: command.fleet, message: error.stack ?? String(error) }));
});
process.on('disconnect', () => process.exit(0));
