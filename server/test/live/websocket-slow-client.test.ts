/**
 * A client that stops reading its socket must not make the server buffer without end: once its
 * unsent messages pass WS_MAX_BUFFERED_BYTES it is cut off, and everyone else keeps going.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectHealthy } from '../support/hostile.js';
import { connect, signedInSocket, until, type LiveClient } from '../support/live.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let reader: LiveClient;

beforeAll(async () => {
  server = await startTestServer({ WS_MAX_BUFFERED_BYTES: '65536' });
});
afterAll(async () => {
  await reader?.dispose();
  await server?.stop();
});

// Long names make each message ~0.5 KB, so a few batches overflow the kernel's socket buffers too.
const NAME = `slow-${'n'.repeat(190)}`;
const SERVICE = 's'.repeat(200);
const pushBatch = (name: string, count: number) =>
  server.gqlOk(
    'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }',
    { s: Array.from({ length: count }, (_, i) => ({ name, service: SERVICE, value: i })) },
    server.adminToken,
  );

it('should cut off a client that stopped reading, and keep serving the others', async () => {
  reader = connect(server.url, { token: server.adminToken });
  const probe = reader.subscribe<{ metricSampled: { value: number } }>('subscription { metricSampled(names: ["probe"]) { value } }');

  const { socket: slow, received } = await signedInSocket(server.url, server.adminToken);
  slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: `subscription { metricSampled(names: ["${NAME}"]) { name service value } }` } }));
  await until(async () => {
    await pushBatch(NAME, 1);
    return received.some((m) => m.type === 'next');
  }, 'the slow client to get a first sample');
  const open = server.app.services.liveConnections.count;

  // The client stops reading: its socket's buffers fill, then the server's.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  await until(async () => {
    // ~1 MB each, just under MAX_BODY_BYTES.
    await pushBatch(NAME, 2_000);
    return server.app.services.liveConnections.count < open;
  }, 'the slow client to be cut off', 20_000);

  await until(async () => {
    await pushBatch('probe', 1);
    return probe.values.length > 0;
  }, 'the reading client to get a probe');
  expect(reader.closed).toEqual([]);
  await expectHealthy(server);
});
