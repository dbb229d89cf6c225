/**
 * `npm run bench:tracing`: what OpenTelemetry costs on the dashboard query. Two real servers
 * (compiled, response cache off) on the seeded data: one without an OTLP endpoint (tracing off:
 * the SDK is not loaded), one exporting every request's trace (the default sampler: all of them)
 * over OTLP/HTTP protobuf to a local receiver that reads and drops the exports, and one
 * sampling a tenth of the traces (`parentbased_traceidratio`, 0.1: what an operator would
 * run). The loads alternate in the same run; prints req/s, p50/p95 and Node CPU per request of
 * each, and the on/off and sampled/off ratios (medians of the per-round ratios), for RESULTS.md.
 *
 * Settings: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, median, type Figures, type Load } from './measure.js';
import { startRealServer, type Target } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const connections = Number(env.BENCH_CONNECTIONS ?? 10);
const load: Load = { path: '/graphql', method: 'POST', body: DASHBOARD_BODY };

let exports = 0;
let exportedBytes = 0;
const receiver = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (exportedBytes += chunk.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const targets: Target[] = [];
try {
  targets.push(await startRealServer({ databaseUrl, name: 'off' }));
  targets.push(await startRealServer({ databaseUrl, name: 'on', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } }));
  targets.push(await startRealServer({ databaseUrl, name: 'sampled', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } }));
  console.log(`\n### OpenTelemetry on vs off — ${new Date().toISOString()}\n\n${machine()}; dashboard query, ${connections} connections, ${seconds} s per run, ${rounds} rounds, order alternating\n`);
  console.log('| round | tracing | req/s | p50 ms | p95 ms | Node CPU ms/req |\n| --- | --- | --- | --- | --- | --- |');
  for (const target of targets) await measure(target, load, connections, 2);
  const results: Record<string, Figures[]> = { off: [], on: [], sampled: [] };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 ? [...targets].reverse() : targets) {
      const f = await measure(target, load, connections, seconds);
      results[target.name].push(f);
      console.log(`| ${round + 1} | ${target.name} | ${fixed(f.requestsPerSecond)} | ${fixed(f.p50)} | ${fixed(f.p95)} | ${fixed(f.nodeCpuMs, 2)} |`);
    }
  }
  for (const name of ['on', 'sampled']) {
    const ratio = (pick: (f: Figures) => number) => median(results[name].map((f, i) => pick(f) / pick(results.off[i])));
    console.log(`\n${name}/off (median of rounds): req/s ${fixed(ratio((f) => f.requestsPerSecond), 3)}×, p50 ${fixed(ratio((f) => f.p50), 3)}×, p95 ${fixed(ratio((f) => f.p95), 3)}×, Node CPU per request ${fixed(ratio((f) => f.nodeCpuMs), 3)}×`);
  }
  console.log(`receiver: ${exports} exports, ${fixed(exportedBytes / 1024 / 1024, 1)} MiB`);
} finally {
  for (const target of targets) await target.stop();
  receiver.close();
}
