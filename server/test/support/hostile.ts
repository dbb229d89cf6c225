/** Helpers for tests that send hostile input: raw HTTP requests and a "still healthy" check. */
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { expect } from 'vitest';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/**
 * Sends exactly the bytes given (no fetch niceties), and resolves even when the server
 * answers before it has read the whole body.
 */
export function rawRequest(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  const target = new URL(options.path ?? '/graphql', url);
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    // One write with a length: a chunked body's last chunk would wait on delayed ACKs (Nagle).
    if (options.body !== undefined && !Object.keys(headers).some((name) => /^(content-length|transfer-encoding)$/i.test(name))) {
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = request(target, { method: options.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    // The server may close early on a refused body; the response still arrives.
    req.on('error', (error) => (error as NodeJS.ErrnoException).code === 'EPIPE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error));
    req.setNoDelay(true);
    req.end(options.body);
  });
}

/** POSTs `{ query, variables }` as JSON and returns the raw response. */
export function postGraphQL(server: { url: string }, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(server.url, {
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The replica (in this process or its own) still answers its health check and a signed-in query. */
export async function expectHealthy(server: { url: string; adminToken: string }): Promise<void> {
  const health = await fetch(`${server.url}/api/health`);
  expect(health.status).toBe(200);
  const response = await postGraphQL(server, { query: '{ viewer { email } }' }, server.adminToken);
  expect(response.json().data.viewer.email).toBeTruthy();
}

export function codeOf(body: { errors?: Array<{ extensions?: { code?: unknown } }> }): unknown {
  return body.errors?.[0]?.extensions?.code;
}

export interface RawExchange {
  /** the status of the response, 0 when none came */
  status: number;
  /** the head of the response as received (status line and headers) */
  head: string;
  /** after a 101: the code of the server's close frame, or null when it sent none in time */
  closeCode: number | null;
  /** why the exchange ended without a response, if it did */
  error?: string;
}

/** A masked client text frame (RFC 6455 §5.2). */
function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.alloc(4 + (length < 65536 ? 0 : 6));
  if (length >= 126 && length < 65536) head.set([0x81, 0x80 | 126]), head.writeUInt16BE(length, 2);
  else if (length >= 65536) head.set([0x81, 0x80 | 127]), head.writeBigUInt64BE(BigInt(length), 2);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  return Buffer.concat([head, mask, payload.map((byte, i) => byte ^ mask[i % 4])]);
}

/** The close code in the server's (unmasked) frames, if one of them is a close frame. */
function closeCodeIn(frames: Buffer): number | null {
  let at = 0;
  while (at + 2 <= frames.length) {
    const opcode = frames[at] & 0x0f;
    let length = frames[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) (length = frames.readUInt16BE(start)), (start += 2);
    else if (length === 127) (length = Number(frames.readBigUInt64BE(start))), (start += 8);
    if (opcode === 0x8) return length >= 2 && start + 2 <= frames.length ? frames.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return null;
}

/**
 * Writes `request` (a whole HTTP/1.1 request, as bytes: nothing is checked or cleaned up) on
 * a fresh TCP connection and reads the response head. After a 101, sends `messages` as
 * WebSocket text frames and waits up to `closeWithinMs` for the server to close.
 */
export function rawExchange(url: string, request: Buffer | string, options: { messages?: string[]; closeWithinMs?: number; timeoutMs?: number } = {}): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let head = '';
    let status = 0;
    let settled = false;
    const finish = (closeCode: number | null, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, head, closeCode, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(null, status ? undefined : 'no response in time'), options.timeoutMs ?? 15_000);
    socket.setNoDelay(true);
    socket.on('error', (error) => finish(null, status ? undefined : error.message));
    socket.on('close', () => finish(status === 101 ? closeCodeIn(received) : null, status ? undefined : 'closed without a response'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!status) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = received.subarray(0, end).toString('latin1');
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0) || -1;
        received = received.subarray(end + 4);
        if (status !== 101) return finish(null);
        for (const message of options.messages ?? []) socket.write(textFrame(Buffer.from(message)));
        setTimeout(() => finish(closeCodeIn(received)), options.closeWithinMs ?? 200);
        return;
      }
      if (status === 101) {
        const code = closeCodeIn(received);
        if (code !== null) finish(code);
      }
    });
    socket.write(request);
  });
}
