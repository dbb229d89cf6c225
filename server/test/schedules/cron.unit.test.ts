/**
 * Cron slots in a time zone with daylight-saving time (Europe/Berlin: 29 March 2026 02:00 →
 * 03:00, 25 October 2026 03:00 → 02:00), and the refusals of bad expressions and zones.
 */
import { describe, expect, it } from 'vitest';
import { lastSlotAtOrBefore, nextSlot, slotsBetween, upcomingSlots, validCron, validTimezone } from '../../src/schedules/cron.js';

const berlin = (cron: string) => ({ cron, timezone: 'Europe/Berlin', seconds: false });
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('cron slots', () => {
  it('should run a fixed time in the spring-forward gap once, at the first valid time after it', () => {
    const slots = slotsBetween(berlin('30 2 * * *'), new Date('2026-03-27T12:00:00Z'), new Date('2026-03-30T12:00:00Z'), 10);
    // 02:30 CET on the 28th, 03:00 CEST on the 29th (02:30 does not exist), 02:30 CEST on the 30th
    expect(iso(slots)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('should run a fixed time that occurs twice in the fall-back once', () => {
    const slots = slotsBetween(berlin('30 2 * * *'), new Date('2026-10-24T00:00:00Z'), new Date('2026-10-26T12:00:00Z'), 10);
    expect(iso(slots)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('should run an hourly pattern 23 times on the short day and 25 on the long one', () => {
    const day = (from: string, to: string) => slotsBetween(berlin('0 * * * *'), new Date(from), new Date(to), 100).length;
    // Berlin midnight to midnight, in UTC
    expect(day('2026-03-28T23:00:00Z', '2026-03-29T21:59:59Z')).toBe(23);
    expect(day('2026-10-24T22:00:00Z', '2026-10-25T22:59:59Z')).toBe(25);
    expect(day('2026-01-09T23:00:00Z', '2026-01-10T22:59:59Z')).toBe(24);
  });

  it('should include a slot exactly at `from` and at `to`, and stop one past the bound', () => {
    const spec = { cron: '*/15 * * * *', timezone: 'UTC', seconds: false };
    expect(iso(slotsBetween(spec, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:30:00Z'), 10)))
      .toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z']);
    expect(slotsBetween(spec, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), 5)).toHaveLength(6);
  });

  it('should find the next slot strictly after, and the last at or before, a time', () => {
    const spec = { cron: '0 * * * *', timezone: 'UTC', seconds: false };
    expect(nextSlot(spec, new Date('2026-01-01T05:00:00Z'))!.toISOString()).toBe('2026-01-01T06:00:00.000Z');
    expect(lastSlotAtOrBefore(spec, new Date('2026-01-01T05:00:00Z'))!.toISOString()).toBe('2026-01-01T05:00:00.000Z');
    expect(lastSlotAtOrBefore(spec, new Date('2026-01-01T05:59:59.999Z'))!.toISOString()).toBe('2026-01-01T05:00:00.000Z');
    expect(iso(upcomingSlots(berlin('0 9 * * 1'), new Date('2026-12-01T00:00:00Z'), 2))).toEqual(['2026-12-07T08:00:00.000Z', '2026-12-14T08:00:00.000Z']);
  });

  it('should take seconds only when allowed', () => {
    expect(() => validCron('*/5 * * * * *', 'UTC', false, 'input.cron')).toThrow(/five fields/);
    expect(validCron(' */5  * * * * * ', 'UTC', true, 'input.cron')).toBe('*/5 * * * * *');
    const spec = { cron: '*/2 * * * * *', timezone: 'UTC', seconds: true };
    expect(iso(slotsBetween(spec, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:05Z'), 10)))
      .toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z']);
  });

  it('should refuse bad expressions and unknown zones with BAD_USER_INPUT naming the field', () => {
    for (const bad of ['', '61 * * * *', '* * *', 'every day', '0 0 30 2 *', 'x'.repeat(201)]) {
      let error: any;
      try {
        validCron(bad, 'UTC', false, 'input.cron');
      } catch (caught) {
        error = caught;
      }
      expect(error?.extensions ?? error, bad).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.cron' });
    }
    expect(validCron('@daily', 'UTC', false, 'input.cron')).toBe('@daily');
    expect(validTimezone('europe/berlin', 'input.timezone')).toBe('Europe/Berlin');
    expect(validTimezone('UTC', 'input.timezone')).toBe('UTC');
    for (const zone of ['Mars/Olympus', '', 'Europe/Berlin; drop table']) {
      expect(() => validTimezone(zone, 'input.timezone')).toThrow(/IANA time zone/);
    }
  });
});
