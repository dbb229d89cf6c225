/** Real local receivers for outbound notifications: an HTTP endpoint and an SMTP server. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a receiver answers a request with (default: 200 "ok"). */
export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  /** answers every later request (after recording it); null: back to 200 "ok" */
  setAnswer(answer: ((request: ReceivedRequest) => Answer) | null): void;
  /** while down, connections are cut before any answer, like a receiver that is gone */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  let down = false;
  let answer: ((request: ReceivedRequest) => Answer) | null = null;
  const server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      const reply = answer?.(request) ?? { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setDown(value) {
      down = value;
    },
    setAnswer(value) {
      answer = value;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpReceiver {
  url: string;
  /** the mails accepted */
  mails: ReceivedMail[];
  /** how many were refused (see `refuseFirst`) */
  refused: number;
  close(): Promise<void>;
}

/** `refuseFirst`: the first so many messages get a temporary failure (451) after their data, as a full or busy relay answers. */
export async function startSmtpReceiver({ refuseFirst = 0 } = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refused < refuseFirst) {
          refused++;
          return callback(Object.assign(new Error('Requested action aborted: local error in processing'), { responseCode: 451 }));
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get refused() {
      return refused;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const PAGERDUTY_ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'];

/**
 * The answer of PagerDuty's Events API v2 (POST /v2/enqueue) to `body`: 202 with the dedup_key,
 * or 400 "invalid event" for a payload it would refuse.
 */
export function pagerdutyAnswer(body: string): Answer {
  const invalid = (error: string): Answer => ({
    status: 400, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [error] }),
  });
  let event: any;
  try {
    event = JSON.parse(body);
  } catch {
    return invalid('Malformed JSON');
  }
  if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) return invalid("'routing_key' is invalid");
  if (!PAGERDUTY_ACTIONS.includes(event.event_action)) return invalid("'event_action' is invalid");
  if (event.event_action !== 'trigger' && !event.dedup_key) return invalid("'dedup_key' is missing");
  if (event.event_action === 'trigger') {
    const payload = event.payload ?? {};
    if (!payload.summary || !payload.source) return invalid("'payload.summary' and 'payload.source' are required");
    if (!PAGERDUTY_SEVERITIES.includes(payload.severity)) return invalid("'payload.severity' is invalid");
  }
  return {
    status: 202, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: event.dedup_key ?? 'generated' }),
  };
}
