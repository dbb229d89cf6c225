/**
 * Fuzzing: a few thousand generated hostile requests over HTTP and WebSocket against one real
 * replica — malformed JSON, wrong types, random unicode, huge numbers, deep nesting, long
 * strings, random methods and headers. The replica must answer every one with a client
 * error (never a 5xx, never INTERNAL_SERVER_ERROR, never a stack or SQL), stay healthy, and
 * give back the memory it used. Then hostile headers (cookies, Authorization, forwarded
 * headers, WebSocket protocols and extensions, broken percent-encoding, binary and huge values)
 * on raw TCP requests and upgrades against a replica in its own process, where a crash shows.
 * The seed is printed, so a failure can be replayed (FUZZ_SEED=… to pick one).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { expectHealthy, rawExchange, rawRequest, type RawExchange, type RawResponse } from '../support/hostile.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { startTestServer, type TestServer } from '../support/server.js';

const HTTP_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);
const HEADER_REQUESTS = Number(process.env.FUZZ_HEADER_REQUESTS ?? 4000);
const SOCKETS = 40;
const MESSAGES_PER_SOCKET = 15;
const CONCURRENCY = 8;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}

const random = prng(SEED);
const { int, pick } = random;

const UNICODE = ['é', 'ß', '漢字', '🙂', '👩‍👩‍👧', '\u202e', '\ufeff', '\u200b', '\ud800', '\udfff', '\\', '"', "'", '`', '${', '</script>', '%00', '\n', '\t', 'ǅ', '\uffff'];
const HUGE_NUMBERS = [1e308, -1e308, 2 ** 53, -(2 ** 31) - 1, 2 ** 31, 1.5, -0, 0, -1, 101, 1e21, Number.MAX_SAFE_INTEGER];

/** Printable ASCII only: what an HTTP header can carry at all. */
function randomAscii(maxLength: number): string {
  return Array.from({ length: int(maxLength) }, () => String.fromCharCode(33 + int(94))).join('');
}

function randomString(maxLength: number): string {
  const length = int(maxLength);
  let text = '';
  while (text.length < length) text += random.next() < 0.3 ? pick(UNICODE) : String.fromCharCode(32 + int(95));
  return text;
}

function randomValue(depth = 0): unknown {
  switch (int(depth > 3 ? 5 : 8)) {
    case 0: return randomString(30);
    case 1: return pick(HUGE_NUMBERS);
    case 2: return random.next() < 0.5;
    case 3: return null;
    case 4: return 'x'.repeat(int(20_000));
    case 5: return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    case 6: return Object.fromEntries(Array.from({ length: int(4) }, () => [randomString(10), randomValue(depth + 1)]));
    default: return pick(['VGFzazo', 'V29ya2Zsb3c6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw', randomString(300)]);
  }
}

const OPERATIONS = [
  'query ($first: Int, $after: String, $search: String, $status: [WorkflowStatus!]) { workflows(first: $first, after: $after, search: $search, status: $status) { totalCount edges { cursor node { id name tasks { id dependsOn { id } } } } } }',
  'query ($id: ID!) { node(id: $id) { id } }',
  'query ($id: ID!) { workflow(id: $id) { id name } task(id: $id) { id } }',
  'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id tasks { name } } }',
  'mutation ($id: ID!) { startWorkflow(id: $id) { id } }',
  'mutation ($q: String) { claimTask(queue: $q) { id } }',
  'mutation ($id: ID!, $e: String!) { failTask(id: $id, error: $e) { id } }',
  'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }',
  'query ($n: String!, $f: DateTime!, $t: DateTime, $b: Int) { metricSeries(name: $n, from: $f, to: $t, bucketSeconds: $b) { value } }',
  'query ($first: Int, $after: String) { alerts(first: $first, after: $after) { totalCount } }',
  'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
  'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }',
  'mutation ($n: String!, $x: DateTime) { createApiToken(name: $n, expiresAt: $x) }',
  'mutation ($id: ID!) { revokeApiToken(id: $id) }',
];

/** Plausible variables with hostile values for each operation above. */
function hostileVariables(): Record<string, unknown> {
  const tasks = Array.from({ length: int(random.next() < 0.1 ? 600 : 5) }, (_, i) => ({
    name: random.next() < 0.8 ? `t${i}` : randomValue(),
    dependsOn: random.next() < 0.5 ? [`t${int(i + 2)}`, randomString(5)] : randomValue(),
    queue: random.next() < 0.8 ? randomString(20) : randomValue(),
    maxAttempts: pick(HUGE_NUMBERS),
  }));
  return {
    first: pick([...HUGE_NUMBERS, randomValue()]),
    after: pick([randomString(60), Buffer.from(JSON.stringify([randomString(10), randomString(36)])).toString('base64url'), randomValue()]),
    search: random.next() < 0.5 ? randomString(500) : randomValue(),
    status: pick([['RUNNING'], ['NOPE'], randomValue()]),
    id: randomValue(),
    input: random.next() < 0.7
      ? { name: randomString(300), description: randomValue(), tasks, metric: randomString(20), comparator: pick(['>', '<', '==', randomString(3)]), threshold: pick(HUGE_NUMBERS), severity: pick(['LOW', 'X']), forSeconds: pick(HUGE_NUMBERS) }
      : randomValue(),
    q: randomValue(),
    e: random.next() < 0.5 ? randomString(2000) : randomValue(),
    s: Array.from({ length: int(50) }, () => ({ name: randomString(40), service: randomString(10), value: pick(HUGE_NUMBERS), time: pick([new Date().toISOString(), '2020-13-45T99:99:99Z', randomString(20), '+275760-09-13T00:00:00.000Z']) })),
    n: randomString(100),
    f: pick(['1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', randomString(25), new Date(Date.now() - 60_000).toISOString()]),
    t: pick([null, '0000-01-01T00:00:00Z', randomString(25)]),
    b: pick(HUGE_NUMBERS),
    p: randomString(300),
    x: pick([null, '1999-01-01T00:00:00Z', randomString(25), '275760-09-13T00:00:00.000Z']),
  };
}

/** Percent-encodes, sending a lone surrogate as the bytes no UTF-8 decoder accepts. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

function deepQuery(): string {
  const depth = 10 + int(2000);
  return `{ ${'viewer { '.repeat(depth)} id ${'} '.repeat(depth)} }`;
}

interface FuzzRequest {
  kind?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

function hostileRequest(token: string): FuzzRequest {
  const kind = int(13);
  return { ...hostileRequestOf(kind, token), kind: String(kind) };
}

function hostileRequestOf(kind: number, token: string): FuzzRequest {
  const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const body = (value: unknown) => JSON.stringify(value);
  switch (kind) {
    case 0: // malformed JSON
      return { method: 'POST', path: '/graphql', headers: json, body: pick(['{', '{"query":', '{"query": "{ viewer { id } }"', '[', 'null', '"', '{"query": "\\ud800"}', '\u0000', randomString(200)]) };
    case 1: // random bytes, some not UTF-8
      return { method: 'POST', path: '/graphql', headers: json, body: Buffer.from(Array.from({ length: int(2000) }, () => int(256))) };
    case 2: // wrong types in the envelope
      return { method: 'POST', path: '/graphql', headers: json, body: body({ query: randomValue(), variables: pick([randomValue(), 'x', [1, 2], 42]), operationName: randomValue(), extensions: randomValue() }) };
    case 3: // deep nesting in the query
      return { method: 'POST', path: '/graphql', headers: json, body: body({ query: deepQuery() }) };
    case 4: { // deep nesting in the JSON
      const depth = 1000 + int(200_000);
      return { method: 'POST', path: '/graphql', headers: json, body: `{"query":"query ($v: [[String]]) { viewer { id } }","variables":{"v":${'['.repeat(depth)}${']'.repeat(depth)}}}` };
    }
    case 5: // random unicode and long strings in the query text
      return { method: 'POST', path: '/graphql', headers: json, body: body({ query: `{ workflows(search: ${JSON.stringify(randomString(5000))}) { totalCount } } ${randomString(100)}` }) };
    case 6: // huge numbers as literals
      return { method: 'POST', path: '/graphql', headers: json, body: body({ query: `{ workflows(first: ${pick(['99999999999999999999', '-2147483649', '1e400', '0x10', '1.5', 'NaN', '-0'])}) { totalCount } }` }) };
    case 7: // random methods, paths and content types
      return {
        method: pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST']),
        path: pick(['/graphql', '/graphql?query=' + encode(randomString(200)), '/graphql?query=%7B&variables=%5B', '/api/session', '/graphql/explorer/..%2f..%2fpackage.json', '/api/health?x=' + encode(randomString(50)), '/' + encode(randomString(40)),
          '/graphql/stream', '/graphql/stream?query=' + encode(randomString(200)), '/status?x=' + encode(randomString(50)), '/api/status',
          `/api/export/${pick(['workflows', 'alerts', 'audit', 'metrics', 'constructor', 'tostring', 'x'])}.${pick(['csv', 'json', 'xml'])}?${pick(['status=NOPE', 'search=' + encode(randomString(100)), 'name=' + encode(randomString(30)) + '&from=' + encode(randomString(20)), 'limit=' + pick(HUGE_NUMBERS)])}`]),
        headers: { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/graphql']), 'apollo-require-preflight': '1', authorization: pick([`Bearer ${token}`, 'Bearer', 'Basic abc', `Bearer ${randomAscii(500)}`]) },
        body: random.next() < 0.5 ? body({ query: randomString(100) }) : undefined,
      };
    case 8: // batches
      return { method: 'POST', path: '/graphql', headers: json, body: body(Array.from({ length: int(50) }, () => ({ query: '{ viewer { id } }' }))) };
    case 9: // big bodies, now and then
      if (random.next() < 0.5) return { method: 'POST', path: '/graphql', headers: json, body: body({ query: '{ health { status } }', extensions: { x: randomAscii(1000) } }) };
      return { method: 'POST', path: '/graphql', headers: json, body: body({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(900_000 + int(300_000)) } }) };
    default: // real operations with hostile variables
      return { method: 'POST', path: '/graphql', headers: { ...json, ...(random.next() < 0.2 ? { authorization: 'Bearer wft_forged' } : {}) }, body: body({ query: pick(OPERATIONS), variables: hostileVariables() }) };
  }
}

const LEAKS = /\bat [\w.<>]+ \(|\.ts:\d+|node_modules|select .* from|insert into|violates|duplicate key|syntax error at or near|pg_|mikro/i;

let server: TestServer;
beforeAll(async () => {
  // The response cache is off: its entries live out their TTL, which is not what the memory check is about.
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', LOGIN_ATTEMPTS_PER_15_MIN: '100000', CACHE_TTL_SECONDS: '0' });
});
afterAll(() => server?.stop());

describe('fuzzing', () => {
  it(`should answer ${HTTP_REQUESTS} hostile HTTP requests and ${SOCKETS * MESSAGES_PER_SOCKET} WebSocket messages with client errors, and stay healthy`, { timeout: 120_000 }, async () => {
    const token = (await server.newUser('MEMBER')).token;
    gc();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    }, 25);
    const started = Date.now();
    const byStatus = new Map<number, number>();
    const byCode = new Map<string, number>();
    const problems: string[] = [];
    const count = (map: Map<any, number>, key: unknown) => map.set(key, (map.get(key) ?? 0) + 1);

    const judge = (request: FuzzRequest, response: RawResponse) => {
      count(byStatus, response.status);
      let codes: string[] = [];
      try {
        const parsed = JSON.parse(response.text);
        codes = (parsed.errors ?? (parsed.error ? [parsed.error] : [])).map((e: any) => String(e.extensions?.code ?? e.code ?? 'NONE'));
      } catch {
        codes = [response.text ? 'NOT_JSON' : 'EMPTY'];
      }
      for (const code of codes) count(byCode, code);
      const what = `${request.method} ${request.path.slice(0, 60)} ${String(request.body ?? '').slice(0, 160)}`;
      if (response.status >= 500) problems.push(`${response.status} for ${what}: ${response.text.slice(0, 200)}`);
      if (codes.includes('INTERNAL_SERVER_ERROR')) problems.push(`INTERNAL_SERVER_ERROR for ${what}`);
      if (LEAKS.test(response.text)) problems.push(`internals in the answer to ${what}: ${response.text.slice(0, 300)}`);
    };

    let sent = 0;
    const timeByKind = new Map<string | undefined, number>();
    const worker = async () => {
      while (sent < HTTP_REQUESTS) {
        sent++;
        const request = hostileRequest(token);
        const began = Date.now();
        // A request the server never answers is a finding too.
        const timeout = new Promise<RawResponse>((resolve) => setTimeout(() => resolve({ status: 0, headers: {}, text: 'no answer in 20 s', json: () => null }), 20_000).unref());
        const response = await Promise.race([
          rawRequest(server.url, request).catch((error: Error) => ({ status: 0, headers: {}, text: `transport error ${error.message}`, json: () => null }) as RawResponse),
          timeout,
        ]);
        if (response.status === 0) problems.push(`no answer to ${request.method} ${request.path} ${JSON.stringify(request.headers)} ${String(request.body ?? '').slice(0, 200)}: ${response.text}`);
        else judge(request, response);
        timeByKind.set(request.kind, (timeByKind.get(request.kind) ?? 0) + Date.now() - began);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(`fuzz: HTTP done in ${Date.now() - started} ms`);

    const closes = new Map<number, number>();
    let messages = 0;
    await Promise.all(Array.from({ length: SOCKETS }, async (_, socketIndex) => {
      const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, socketIndex % 10 === 9 ? pick(['graphql-ws', 'nope']) : 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.on('error', () => undefined);
      socket.on('message', (data) => {
        if (LEAKS.test(String(data))) problems.push(`internals over WebSocket: ${String(data).slice(0, 200)}`);
        if (/INTERNAL_SERVER_ERROR/.test(String(data))) problems.push(`INTERNAL_SERVER_ERROR over WebSocket: ${String(data).slice(0, 200)}`);
      });
      await new Promise((resolve) => socket.once('open', resolve).once('close', resolve));
      if (socket.readyState === WebSocket.OPEN && socketIndex % 4 !== 0) {
        const payload = socketIndex % 4 === 1 ? pick([randomValue(), { authorization: randomString(50) }]) : { authorization: `Bearer ${token}` };
        socket.send(JSON.stringify({ type: 'connection_init', payload }));
      }
      for (let i = 0; i < MESSAGES_PER_SOCKET && socket.readyState === WebSocket.OPEN; i++) {
        messages++;
        // Well-formed frames with hostile content keep the socket open; malformed ones close it, so they come last.
        const last = i === MESSAGES_PER_SOCKET - 1;
        const payload = !last
          ? pick([
            () => JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: pick([...OPERATIONS, 'subscription { workflowEvents { kind } }', 'subscription { metricSampled { value } }', deepQuery(), randomString(300)]), variables: hostileVariables() } }),
            () => JSON.stringify({ id: `s${int(i + 1)}`, type: 'complete' }),
            () => JSON.stringify({ type: pick(['ping', 'pong']), payload: pick([undefined, { x: randomString(50) }]) }),
          ])()
          : pick([
            () => JSON.stringify({ id: randomValue(), type: pick(['subscribe', 'next', randomString(5)]), payload: randomValue() }),
            () => randomString(500),
            () => Buffer.from(Array.from({ length: int(500) }, () => int(256))),
            () => `{"type":"subscribe","id":"x","payload":{"query":"{ viewer { id } }","variables":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
          ])();
        socket.send(payload);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      const cutOff = setTimeout(() => {
        problems.push(`socket ${socketIndex} did not close`);
        socket.terminate();
      }, 10_000);
      count(closes, await closed);
      clearTimeout(cutOff);
    }));
    clearInterval(sampler);

    const elapsedMs = Date.now() - started;
    await expectHealthy(server);
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc();
    const after = process.memoryUsage();
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    const figures = {
      seed: SEED,
      httpRequests: sent,
      webSocketMessages: messages,
      sockets: SOCKETS,
      elapsedMs,
      msByKind: Object.fromEntries(timeByKind),
      byStatus: Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])),
      byCode: Object.fromEntries([...byCode].sort((a, b) => b[1] - a[1])),
      socketCloseCodes: Object.fromEntries(closes),
      heapMb: { baseline: mb(baseline.heapUsed), peak: mb(peakHeap), after: mb(after.heapUsed) },
      rssMb: { baseline: mb(baseline.rss), peak: mb(peakRss), after: mb(after.rss) },
    };
    console.log(`fuzz figures ${JSON.stringify(figures)}`);
    expect(problems.slice(0, 20)).toEqual([]);
    // Bounded caches keep some of it: Apollo's parsed-document LRU (~30 MB) and the 500 queries
    // graphql-jit keeps compiled, full of hostile documents by now. What stays after is reported
    // above; the bound here catches a leak that grows with the number of requests.
    expect(after.heapUsed - baseline.heapUsed).toBeLessThan(256 * 1024 * 1024);
  });
});

// What a client can put in a header value: broken percent-encoding, control and non-ASCII
// bytes, separators, and sizes around and past the server's header limit (16 KB).
const HOSTILE_VALUES = ['%', '%%', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%ZZ', '%00', '%0d%0a', '=', ';', ',', '"', '""', ' ', '\t', '\x01', '\x7f', '\xff\xfe', 'é', '\\', '\u00a0'];

function hostileValue(): string {
  switch (int(6)) {
    case 0: return pick(HOSTILE_VALUES);
    case 1: return Array.from({ length: 1 + int(30) }, () => pick([...HOSTILE_VALUES, randomAscii(5)])).join('');
    // Any byte but CR and LF, which would end the header (and then the request) early.
    case 2: return String.fromCharCode(...Array.from({ length: 1 + int(100) }, () => pick([1 + int(9), 14 + int(242)])));
    case 3: return pick(['x', '%', 'a=%;']).repeat(1 + int(random.next() < 0.2 ? 20_000 : 2_000));
    case 4: return randomAscii(300);
    default: return `wft_${randomAscii(40)}`;
  }
}

const HEADER_NAMES = ['cookie', 'authorization', 'x-forwarded-for', 'x-forwarded-proto', 'sec-websocket-protocol', 'sec-websocket-extensions', 'origin', 'host', 'x-request-id', 'accept', 'content-type', 'apollo-require-preflight'];

function hostileHeader(token: string): [string, string] {
  const value = hostileValue();
  switch (int(9)) {
    case 0: return ['cookie', pick([`wf_session=${value}`, value, `a=1; wf_session=${value}`, `wf_session=${token}; wf_session=${value}`, `${value}=x`, `wf_session=${token.slice(0, 20)}`])];
    case 1: return ['authorization', pick([`Bearer ${value}`, value, 'Bearer', `bearer  ${token} ${value}`, `Basic ${value}`, `Bearer ${'a'.repeat(100 + int(400))}`])];
    case 2: return ['x-forwarded-for', pick([value, `1.2.3.4, ${value}`, ','.repeat(1 + int(500)), `${value}, ${value}`])];
    case 3: return ['sec-websocket-protocol', pick([value, `graphql-transport-ws, ${value}`, `${value}, graphql-transport-ws`, 'graphql-transport-ws,,', 'graphql-transport-ws graphql-ws'])];
    // Never a plain number: the server would rightly wait for a body that never comes.
    case 5: return ['content-length', pick(['-1', 'abc', '1, 2', '99999999999999999999999', '0x10', ' ', value.replace(/^\d+$/, 'x')])];
    case 4: return ['sec-websocket-extensions', pick([value, `permessage-deflate; client_max_window_bits=${value}`, 'permessage-deflate; server_max_window_bits=99', 'permessage-deflate;;'])];
    default: return [pick(HEADER_NAMES), value];
  }
}

const TARGETS = ['/graphql', '/graphql?query=%', '/graphql?query=%7B%20viewer%20%7B%20email%20%7D%20%7D', '/graphql?query={viewer{email}}&variables=%', '/graphql?%E0%A4%A=1',
  '/api/session', '/api/health?x=%', '/api/ready', '/api/metrics', '/%', '/%E0%A4%A', '/graphql/explorer/%', '//x:99999/graphql', '//[::1', '/graphql#%', 'http://a/graphql', '*',
  '/graphql/stream', '/graphql/stream?query=%', '/status', '/status?x=%', '/api/status', '/api/export/workflows.csv?search=%', '/api/export/audit.json?from=%', '/api/export/constructor.csv'];

/** One hostile HTTP/1.1 request as raw bytes: a few hostile headers, sometimes a WebSocket upgrade. */
function hostileHeaderRequest(token: string): { bytes: Buffer; upgrade: boolean; messages: string[] } {
  const upgrade = random.next() < 0.4;
  const target = upgrade ? pick(['/graphql', '/graphql', '/graphql', '/graphql?x=%', '/%']) : pick(TARGETS);
  const method = upgrade ? 'GET' : pick(['GET', 'GET', 'POST', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PUT']);
  const headers: Array<[string, string]> = [['host', '127.0.0.1']];
  if (upgrade) {
    headers.push(['upgrade', 'websocket'], ['connection', 'Upgrade'], ['sec-websocket-version', random.next() < 0.9 ? '13' : pick(['8', '99', hostileValue()])]);
    headers.push(['sec-websocket-key', random.next() < 0.9 ? 'dGhlIHNhbXBsZSBub25jZQ==' : hostileValue()]);
    if (random.next() < 0.8) headers.push(['sec-websocket-protocol', 'graphql-transport-ws']);
  } else {
    headers.push(['connection', 'close']);
    if (random.next() < 0.5) headers.push(['authorization', `Bearer ${token}`]);
  }
  for (let i = 0, n = 1 + int(3); i < n; i++) headers.push(hostileHeader(token));
  const body = method === 'POST' ? JSON.stringify({ query: '{ viewer { email } }' }) : '';
  if (body && !headers.some(([name]) => name === 'content-length')) headers.push(['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(body))]);
  const head = `${method} ${target} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
  // latin1: each char code below 256 is sent as that one byte, so non-UTF-8 bytes reach the server.
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
  const init = pick([
    { authorization: `Bearer ${token}` }, { authorization: hostileValue() }, { authorization: `Bearer ${hostileValue()}` }, null, [], 'x', 42, { authorization: 42 }, { authorization: { toString: 1 } }, {},
  ]);
  const messages = [JSON.stringify({ type: 'connection_init', ...(init === undefined ? {} : { payload: init }) })];
  if (random.next() < 0.5) messages.push(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ viewer { email } }' } }));
  return { bytes, upgrade, messages };
}

/** Requests that each crashed or failed a replica once: sent first, whatever the seed. */
function knownCrashers(): Array<ReturnType<typeof hostileHeaderRequest>> {
  const upgrade = 'upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-protocol: graphql-transport-ws\r\n';
  return [
    `GET /graphql HTTP/1.1\r\nhost: x\r\n${upgrade}cookie: wf_session=%\r\n\r\n`,
    `POST /graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: wf_session=%\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`,
    'GET //[::1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
  ].map((text) => ({ bytes: Buffer.from(text), upgrade: text.includes('upgrade'), messages: ['{"type":"connection_init"}'] }));
}

/** Heap and resident memory of a replica, from its own metrics. */
async function processMemory(url: string): Promise<{ heap: number; rss: number }> {
  const text = await (await fetch(`${url}/api/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return { heap: value('nodejs_heap_size_used_bytes'), rss: value('process_resident_memory_bytes') };
}

describe('hostile headers', () => {
  let replica: ServerProcess | undefined;
  afterAll(() => replica?.stop());

  it(`should answer ${HEADER_REQUESTS} raw requests and upgrades with hostile headers without a crash or a 5xx`, { timeout: 240_000 }, async () => {
    replica = await startServerProcess({ RATE_LIMIT_PER_MINUTE: '0', TRUST_PROXY_HOPS: '1', CACHE_TTL_SECONDS: '0' });
    const { url } = replica;
    // A session of its own: the fuzz signs it out now and then (DELETE /api/session).
    const token = await replica.signIn();
    const baseline = await processMemory(url);
    const byStatus = new Map<number, number>();
    const closes = new Map<number | null, number>();
    const problems: string[] = [];
    const count = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
    const started = Date.now();
    const known = knownCrashers();
    let sent = 0;
    const worker = async () => {
      while (sent < HEADER_REQUESTS && replica!.child.exitCode === null) {
        const request = known[sent++] ?? hostileHeaderRequest(token);
        const answer: RawExchange = await rawExchange(url, request.bytes, { messages: request.messages });
        count(byStatus, answer.status);
        const what = () => JSON.stringify(request.bytes.toString('latin1').slice(0, 400));
        if (answer.status === 101) count(closes, answer.closeCode);
        if (answer.status <= 0 || answer.status >= 500) problems.push(`${answer.status || answer.error} for ${what()}: ${answer.head.slice(0, 100)}`);
        if (answer.closeCode === 1011 || answer.closeCode === 4500) problems.push(`WebSocket closed ${answer.closeCode} for ${what()}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsedMs = Date.now() - started;
    // A crash shows as the process gone (and as requests without an answer above).
    expect(replica.child.exitCode, replica.output().slice(-2000)).toBeNull();
    await expectHealthy(replica);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await processMemory(url);
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    console.log(`hostile headers figures ${JSON.stringify({
      seed: SEED, requests: sent, elapsedMs,
      byStatus: Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])), webSocketCloseCodes: Object.fromEntries(closes),
      heapMb: { baseline: mb(baseline.heap), after: mb(after.heap) }, rssMb: { baseline: mb(baseline.rss), after: mb(after.rss) },
    })}`);
    expect(problems.slice(0, 20)).toEqual([]);
    // Without a forced collection the heap keeps some garbage; a leak per request would pass this bound.
    expect(after.heap - baseline.heap).toBeLessThan(64 * 1024 * 1024);
  });
});
