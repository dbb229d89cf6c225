/** Helpers for tests that send hostile input: raw HTTP requests and a "still healthy" check. */
import { request } from 'node:http';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

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
export function postGraphQL(server: TestServer, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(server.url, {
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The replica still answers its health check and a signed-in query. */
export async function expectHealthy(server: TestServer): Promise<void> {
  const health = await fetch(`${server.url}/api/health`);
  expect(health.status).toBe(200);
  const data = await server.gqlOk('{ viewer { email } }', {}, server.adminToken);
  expect(data.viewer.email).toBeTruthy();
}

export function codeOf(body: { errors?: Array<{ extensions?: { code?: unknown } }> }): unknown {
  return body.errors?.[0]?.extensions?.code;
}
