/**
 * The explorer's files over real HTTP: validators and 304, HEAD, brotli and gzip made once
 * into DATA_DIR, nothing outside the package served; and the security headers every response
 * carries, HSTS only where the client came over HTTPS (TLS here, or a trusted proxy's word).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { getDistDirectory } from 'altair-static';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticFiles } from '../../src/http/static-files.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The bytes as sent: no decompression, no caching. */
function get(base: string, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const url = new URL(target, base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    request(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

const MAIN = readFileSync(path.join(getDistDirectory(), 'main.js'));
let dataDir: string;
let server: TestServer;
let proxied: TestServer;
let tls: HttpsServer;
let tlsUrl: string;
let mainUrl: string;
let version: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'wf-static-'));
  server = await startTestServer({ DATA_DIR: dataDir });
  proxied = await startTestServer({ DATA_DIR: dataDir, TRUST_PROXY_HOPS: '1' }, server.database);
  // The same replica's handler behind real TLS, with a throwaway self-signed certificate.
  const key = path.join(dataDir, 'key.pem');
  const cert = path.join(dataDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => server.app.server.emit('request', req, res));
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;

  const page = await get(server.url, '/graphql', { accept: 'text/html' });
  const base = /<base href="([^"]+)"/.exec(page.body.toString())![1];
  mainUrl = new URL('main.js', new URL(base, server.url)).pathname;
  version = path.basename(path.dirname(mainUrl));
});
afterAll(async () => {
  await new Promise((resolve) => tls?.close(resolve));
  await proxied?.stop();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('explorer files', () => {
  it('should send the 3 MB bundle as brotli or gzip, as the client accepts, and whole to a client that accepts neither', async () => {
    const br = await get(server.url, mainUrl, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.body.length).toBeLessThan(MAIN.length / 3);
    expect(brotliDecompressSync(br.body).equals(MAIN)).toBe(true);

    const gz = await get(server.url, mainUrl, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.length).toBeLessThan(MAIN.length / 3);
    expect(gunzipSync(gz.body).equals(MAIN)).toBe(true);

    const plain = await get(server.url, mainUrl);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(MAIN)).toBe(true);
    // Made once, on first use, where DATA_DIR keeps it for the next start.
    expect(existsSync(path.join(dataDir, 'cache', `altair-${version}`, 'main.js.br'))).toBe(true);
  });

  it('should answer a request that carries the ETag it has with 304 and no body, per encoding', async () => {
    const first = await get(server.url, mainUrl, { 'accept-encoding': 'br' });
    const etag = String(first.headers.etag);
    expect(etag).toBeTruthy();
    expect(first.headers['cache-control']).toMatch(/max-age=\d{6,}.*immutable/);
    const again = await get(server.url, mainUrl, { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // The gzip body is other bytes: the brotli validator must not match it.
    const gz = await get(server.url, mainUrl, { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(gz.status).toBe(200);
    expect(gz.headers.etag).not.toBe(etag);
  });

  it('should answer HEAD with the headers of GET and no body', async () => {
    const head = await get(server.url, mainUrl, { 'accept-encoding': 'br' }, 'HEAD');
    const full = await get(server.url, mainUrl, { 'accept-encoding': 'br' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of ['content-length', 'content-type', 'content-encoding', 'etag']) expect(head.headers[name]).toBe(full.headers[name]);
  });

  it('should serve nothing outside the package, nor another version of it', async () => {
    for (const target of [
      `/graphql/explorer/${version}/nothing.js`,
      `/graphql/explorer/${version}/%2e%2e/%2e%2e/package.json`,
      `/graphql/explorer/${version}/..%2f..%2fpackage.json`,
      `/graphql/explorer/${version}/%252e%252e/package.json`,
      '/graphql/explorer/0.0.0/main.js',
      '/graphql/explorer/main.js',
    ]) {
      const response = await get(server.url, target);
      expect(response.status, target).toBe(404);
      expect(response.body.toString()).not.toContain('altair-static');
    }
  });
});

describe('a file gone after the folder was listed', () => {
  it('should close that response and keep serving, not crash the process', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'wf-static-'));
    await writeFile(path.join(folder, 'gone.txt'), 'soon gone');
    await writeFile(path.join(folder, 'kept.txt'), 'still here');
    const serve = staticFiles(folder, { maxAgeSeconds: 0 });
    const server = createHttpServer((req, res) => {
      if (!serve(req, res, req.url!.slice(1))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await rm(path.join(folder, 'gone.txt'));
      await expect(get(base, '/gone.txt')).rejects.toThrow();
      const kept = await get(base, '/kept.txt');
      expect([kept.status, kept.body.toString()]).toEqual([200, 'still here']);
    } finally {
      server.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('security headers', () => {
  const PATHS = ['/api/health', '/graphql', '/nowhere', '/login'];

  it('should send Cross-Origin-Resource-Policy and Origin-Agent-Cluster on every response, the explorer files included', async () => {
    for (const target of [...PATHS, mainUrl]) {
      const response = await get(server.url, target, { accept: 'text/html' });
      expect(response.headers['cross-origin-resource-policy'], target).toBe('same-origin');
      expect(response.headers['origin-agent-cluster'], target).toBe('?1');
      expect(response.headers['x-content-type-options'], target).toBe('nosniff');
    }
  });

  it('should send HSTS over TLS, and behind a trusted proxy that says the client came over HTTPS; never over plain HTTP', async () => {
    for (const target of PATHS) {
      expect((await get(tlsUrl, target)).headers['strict-transport-security'], target).toMatch(/^max-age=\d{7,}$/);
      expect((await get(proxied.url, target, { 'x-forwarded-proto': 'https' })).headers['strict-transport-security'], target).toMatch(/^max-age=/);
      expect((await get(server.url, target)).headers['strict-transport-security'], target).toBeUndefined();
      // No trusted proxy: anyone can write the header, so it proves nothing.
      expect((await get(server.url, target, { 'x-forwarded-proto': 'https' })).headers['strict-transport-security'], target).toBeUndefined();
      expect((await get(proxied.url, target, { 'x-forwarded-proto': 'http' })).headers['strict-transport-security'], target).toBeUndefined();
      // The client's own claim comes first; the trusted proxy appends what it saw.
      expect((await get(proxied.url, target, { 'x-forwarded-proto': 'https, http' })).headers['strict-transport-security'], target).toBeUndefined();
    }
  });

  it('should point the explorer at wss:// only when the client came over HTTPS', async () => {
    const page = async (base: string, headers: Record<string, string> = {}) => (await get(base, '/graphql', { accept: 'text/html', ...headers })).body.toString();
    expect(await page(tlsUrl)).toContain('wss://');
    expect(await page(proxied.url, { 'x-forwarded-proto': 'https' })).toContain('wss://');
    expect(await page(server.url, { 'x-forwarded-proto': 'https' })).not.toContain('wss://');
  });
});
