import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: string;
let viewer: string;

beforeAll(async () => {
  server = await startTestServer();
  member = (await server.newUser('MEMBER')).token;
  viewer = (await server.newUser('VIEWER')).token;
});
afterAll(() => server?.stop());

const RECORD = 'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }';
const SERIES = `query ($n: String!, $s: String, $i: String, $f: DateTime!, $t: DateTime, $b: Int, $a: MetricAggregate) {
  metricSeries(name: $n, service: $s, instance: $i, from: $f, to: $t, bucketSeconds: $b, aggregate: $a) { name service instance time value } }`;

async function storedCount(name: string): Promise<number> {
  const [{ count }] = await server.app.orm.em.fork().execute('select count(*)::int as count from metrics where name = ?', [name]);
  return count;
}

describe('recordMetrics', () => {
  it('should store a batch in one call and return how many were stored', async () => {
    const time = new Date(Date.now() - 60_000).toISOString();
    const samples = Array.from({ length: 500 }, (_, i) => ({ name: 'ingest_ok', service: 'svc-a', value: i, time }));
    const result = await server.gqlOk(RECORD, { s: samples }, member);
    expect(result.recordMetrics).toBe(500);
    expect(await storedCount('ingest_ok')).toBe(500);
  });

  it('should accept the maximum batch of 10,000 samples', async () => {
    const samples = Array.from({ length: 10_000 }, (_, i) => ({ name: 'ingest_max', service: 's', value: i }));
    expect((await server.gqlOk(RECORD, { s: samples }, server.adminToken)).recordMetrics).toBe(10_000);
    expect(await storedCount('ingest_max')).toBe(10_000);
  });

  it('should keep names with quotes, commas and braces intact', async () => {
    const name = 'weird "name", {with} \\ braces';
    await server.gqlOk(RECORD, { s: [{ name, service: 'svc, "b"', value: 1.5, instance: 'host-1' }] }, member);
    const [row] = await server.app.orm.em.fork().execute('select * from metrics where name = ?', [name]);
    expect(row).toMatchObject({ service: 'svc, "b"', instance: 'host-1', value: 1.5 });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an empty name', { name: '  ', service: 's', value: 1 }, /samples\[2\]\.name must not be empty/],
    ['an over-long name', { name: 'x'.repeat(201), service: 's', value: 1 }, /samples\[2\]\.name is longer than 200/],
    ['an empty service', { name: 'n', service: '', value: 1 }, /samples\[2\]\.service must not be empty/],
    ['a time far in the future', { name: 'n', service: 's', value: 1, time: new Date(Date.now() + 3_600_000).toISOString() }, /samples\[2\]\.time is more than 5 minutes in the future/],
  ];
  for (const [what, sample, message] of bad) {
    it(`should reject a batch with ${what}, naming the sample and storing nothing`, async () => {
      const name = `rejected_${what.replace(/\W+/g, '_')}`;
      const good = { name, service: 's', value: 1 };
      const result = await server.gql(RECORD, { s: [good, good, { ...good, ...sample }, good] }, member);
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toMatch(message);
      expect(result.errors?.[0].extensions?.index).toBe(2);
      expect(await storedCount(name)).toBe(0);
    });
  }

  it('should reject a non-finite value, naming the sample', async () => {
    // JSON has no Infinity, but 1e400 parses to it.
    const body = `{"query":${JSON.stringify(RECORD)},"variables":{"s":[{"name":"inf","service":"s","value":1},{"name":"inf","service":"s","value":1e400}]}}`;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${member}` },
      body,
    });
    const result = await response.json();
    expect(result.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors[0].message).toMatch(/s\[1\]\.value/);
    expect(await storedCount('inf')).toBe(0);
  });

  it('should reject more than 10,000 samples', async () => {
    const samples = Array.from({ length: 10_001 }, () => ({ name: 'too_many', service: 's', value: 1 }));
    const result = await server.gql(RECORD, { s: samples }, member);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/at most 10000 samples/);
    expect(await storedCount('too_many')).toBe(0);
  });

  it('should refuse a VIEWER with FORBIDDEN and a stranger with UNAUTHENTICATED', async () => {
    const samples = [{ name: 'nope', service: 's', value: 1 }];
    expect((await server.gql(RECORD, { s: samples }, viewer)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(RECORD, { s: samples })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await storedCount('nope')).toBe(0);
  });
});

describe('metricSeries', () => {
  // A whole hour a day ago: inside the raw samples' retention on whatever day the test runs.
  const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;
  const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();

  beforeAll(async () => {
    // Two instances of svc-a and one of svc-b; three samples in each 60 s bucket of svc-a/h1.
    const samples = [
      ...[1, 2, 6].map((value, i) => ({ name: 'series_m', service: 'svc-a', instance: 'h1', value, time: at(i * 10) })),
      ...[10, 20].map((value, i) => ({ name: 'series_m', service: 'svc-a', instance: 'h1', value, time: at(60 + i * 10) })),
      { name: 'series_m', service: 'svc-a', instance: 'h2', value: 100, time: at(5) },
      { name: 'series_m', service: 'svc-b', value: 7, time: at(5) },
      { name: 'series_m', service: 'svc-a', instance: 'h1', value: 999, time: at(600) },
    ];
    await server.gqlOk(RECORD, { s: samples }, member);
  });

  it('should average per bucket, per service and instance, within the range', async () => {
    const { metricSeries } = await server.gqlOk(SERIES, { n: 'series_m', f: at(0), t: at(120), b: 60 }, viewer);
    expect(metricSeries.map((p: any) => [p.service, p.instance, p.time, p.value])).toEqual([
      ['svc-a', 'h1', at(0), 3],
      ['svc-a', 'h1', at(60), 15],
      ['svc-a', 'h2', at(0), 100],
      ['svc-b', null, at(0), 7],
    ]);
  });

  it('should filter by service and instance and aggregate max and p95', async () => {
    const max = await server.gqlOk(SERIES, { n: 'series_m', s: 'svc-a', i: 'h1', f: at(0), t: at(120), b: 60, a: 'MAX' }, viewer);
    expect(max.metricSeries.map((p: any) => p.value)).toEqual([6, 20]);
    const p95 = await server.gqlOk(SERIES, { n: 'series_m', s: 'svc-a', i: 'h1', f: at(0), t: at(60), b: 60, a: 'P95' }, viewer);
    expect(p95.metricSeries[0].value).toBeCloseTo(5.6, 5);
  });

  it('should choose a bucket width when none is given', async () => {
    const { metricSeries } = await server.gqlOk(SERIES, { n: 'series_m', s: 'svc-a', i: 'h1', f: at(0), t: at(1000) }, viewer);
    expect(metricSeries.map((p: any) => p.value)).toEqual([1, 2, 6, 10, 20, 999]);
  });

  it('should reject a reversed range, a zero bucket and too many buckets', async () => {
    for (const variables of [
      { n: 'series_m', f: at(100), t: at(0) },
      { n: 'series_m', f: at(0), t: at(100), b: 0 },
      { n: 'series_m', f: at(0), t: at(100_000), b: 1 },
    ]) {
      const result = await server.gql(SERIES, variables, viewer);
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('should list metric names, sorted', async () => {
    const { metricNames } = await server.gqlOk('{ metricNames }', {}, viewer);
    expect(metricNames).toEqual([...metricNames].sort());
    expect(metricNames).toEqual(expect.arrayContaining(['ingest_ok', 'series_m']));
    expect(metricNames).not.toContain('nope');
  });
});
