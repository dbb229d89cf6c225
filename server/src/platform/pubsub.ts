/**
 * The event bus. It only carries news: the `events` table is the truth. In-process by
 * default; the live-events work plugs Redis in behind the same interface.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { StoredEvent } from './event-log.js';

/** One typed map of topic → payload, so a typo in a topic fails to compile. */
export type Topics = {
  workflow: [StoredEvent];
  alert: [StoredEvent];
  /** samples just stored, in batches (one sampler tick, one `recordMetrics` call) */
  metrics: [MetricBatch];
  /** the cluster's health, published by the alert evaluator when a component changes */
  health: [HealthReport];
};

/** Plain JSON, so a batch crosses Redis unchanged: times are ISO strings. */
export interface MetricBatch {
  points: Array<{ name: string; service: string; instance: string | null; time: string; value: number }>;
}

export interface HealthReport {
  status: string;
  instance: string;
  checkedAt: string;
  components: Array<{ name: string; status: string; latencyMs: number | null; detail: string | null }>;
}

export type EventBus = ReturnType<typeof createEventBus>;

export function createEventBus() {
  return createPubSub<Topics>();
}
