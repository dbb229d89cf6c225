/** Reads `GET /api/metrics` the way Prometheus would: every sample line must parse. */
import { expect } from 'vitest';

/** Samples by their name and labels, e.g. `events_published_total{topic="metrics"}`. */
export async function scrape(url: string, token?: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/api/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    // prom-client writes "Nan" for a gauge without data yet; Prometheus parses it like NaN.
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (-?[\d.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(line);
    expect(match, line).not.toBeNull();
    samples.set(match![1], Number(match![2]));
  }
  return samples;
}
