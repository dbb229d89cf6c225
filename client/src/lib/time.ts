/**
 * Every time the dashboard shows, in the viewer's local zone and one style: the locale's clock
 * (hour and minute, with seconds where a moment matters), the date in front when it is not
 * today. Chart axes use the same formatter, so "9:13:44 PM" never sits beside "8:15pm".
 * The exact UTC time goes in a `title` (shown on hover).
 */
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const CLOCK_MINUTES = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** `date` as the dashboard writes it: `seconds: false` for axis ticks and ranges. */
export function clockTime(date: Date | number | string, { seconds = true } = {}): string {
  const moment = new Date(date);
  const clock = (seconds ? CLOCK : CLOCK_MINUTES).format(moment);
  return moment.toDateString() === new Date().toDateString() ? clock : `${DAY.format(moment)}, ${clock}`;
}

/** Labels for a time axis spanning `spanMs`: days once it covers several of them, else the clock. */
export function axisTimes(ticksMs: number[], spanMs: number): string[] {
  return ticksMs.map((tick) => (spanMs > 2 * 86400_000 ? DAY.format(tick) : CLOCK_MINUTES.format(tick)));
}

export function utcTime(iso: string): string {
  return `${new Date(iso).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function ago(iso: string, now = Date.now()): string {
  return `${duration(Math.max(0, now - new Date(iso).getTime()))} ago`;
}

/** `iso` on the wall clock of an IANA `zone` (a schedule's), with the zone's abbreviation. */
export function zonedTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}
