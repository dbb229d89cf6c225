/**
 * Storing samples: the sampler's own and those integrations push through `recordMetrics`.
 * A batch is checked whole before anything is written, then stored in ONE statement
 * (`unnest` over arrays), so a rejected batch leaves nothing behind.
 */
import type { Context } from '../app/context.js';
import { requireWriter } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { badInput } from '../core/errors.js';
import type { EventBus } from '../live/bus/bus.js';
import { floatArray, textArray } from '../db/sql.js';
import { codePoints } from '../core/text.js';
import type { MetricSampleInput } from './types.js';

export const MAX_BATCH = 10_000;
const MAX_TEXT = 200;
// Clocks of pushing hosts drift; further ahead than this is a bug on their side.
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface Sample {
  name: string;
  service: string;
  instance: string | null;
  time: Date;
  value: number;
}

function checkText(index: number, field: string, value: string | null | undefined, optional = false): string | null {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) {
    if (optional && (value === null || value === undefined)) return null;
    throw badInput(`samples[${index}].${field} must not be empty`, { index, field });
  }
  if (codePoints(trimmed) > MAX_TEXT) throw badInput(`samples[${index}].${field} is longer than ${MAX_TEXT} characters`, { index, field });
  return trimmed;
}

/** The batch as it will be stored, or BAD_USER_INPUT naming the first offending sample. */
export function validateSamples(inputs: readonly MetricSampleInput[], now = new Date()): Sample[] {
  if (inputs.length > MAX_BATCH) throw badInput(`at most ${MAX_BATCH} samples per call, got ${inputs.length}`, { field: 'samples' });
  const latest = now.getTime() + FUTURE_TOLERANCE_MS;
  return inputs.map((input, index) => {
    const name = checkText(index, 'name', input.name)!;
    const service = checkText(index, 'service', input.service)!;
    const instance = checkText(index, 'instance', input.instance, true);
    if (typeof input.value !== 'number' || !Number.isFinite(input.value)) {
      throw badInput(`samples[${index}].value must be a finite number`, { index, field: 'value' });
    }
    const time = input.time ?? now;
    if (Number.isNaN(time.getTime())) throw badInput(`samples[${index}].time is not a valid time`, { index, field: 'time' });
    if (time.getTime() > latest) {
      throw badInput(`samples[${index}].time is more than 5 minutes in the future`, { index, field: 'time' });
    }
    return { name, service, instance, time, value: input.value };
  });
}

/** Writes the samples in one statement and announces them on the bus. */
export async function storeSamples(em: EntityManager, bus: EventBus, samples: readonly Sample[]): Promise<number> {
  if (samples.length === 0) return 0;
  const points = samples.map((s) => ({ name: s.name, service: s.service, instance: s.instance, time: s.time.toISOString(), value: s.value }));
  // Through knex rather than em.execute, which would inline (and escape again) every value:
  // here the five arrays travel as bind parameters.
  await em.getConnection().getKnex().raw(
    `insert into metrics (name, service, instance, time, value)
     select * from unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::float8[])`,
    [
      textArray(points.map((p) => p.name)),
      textArray(points.map((p) => p.service)),
      textArray(points.map((p) => p.instance)),
      `{${points.map((p) => p.time).join(',')}}`,
      floatArray(points.map((p) => p.value)),
    ],
  );
  bus.publish('metrics', { points });
  return samples.length;
}

/** `recordMetrics`: ADMIN and MEMBER push; a VIEWER only reads. */
export async function recordMetrics(ctx: Context, inputs: readonly MetricSampleInput[]): Promise<number> {
  requireWriter(ctx.viewer);
  return storeSamples(ctx.em, ctx.app.bus, validateSamples(inputs));
}
