/**
 * What mutes an alert's notifications right now: an active silence or maintenance window
 * whose matchers hold, or an inhibition rule with a firing source alert that has the same
 * `equal` labels (Alertmanager's inhibitor: an alert never inhibits itself, and an alert on
 * both sides of a rule is not inhibited by another that is on both sides too).
 */
import type { Queryable } from '../../db/read-routing.js';
import type { Labels } from '../labels.js';
import { matcherOf, type Matches } from './matchers.js';
import { inhibitionFromRow, schedule, silenceFromRow, windowActive } from './rows.js';
import type { Silence } from './types.js';

export interface MutedAlert {
  id: string;
  labels: Labels;
  /** FIRING or ACKNOWLEDGED: what can inhibit others */
  firing: boolean;
}

export interface Muting {
  /** the active silences whose matchers hold */
  silencedBy(labels: Labels): Silence[];
  /** names of the active maintenance windows whose matchers hold */
  inWindows(labels: Labels): string[];
  /** whether a firing alert among `sources` inhibits this one */
  inhibited(alert: MutedAlert, sources: readonly MutedAlert[]): boolean;
  /** any of the three */
  muted(alert: MutedAlert, sources: readonly MutedAlert[]): boolean;
}

export async function loadMuting(db: Queryable, now: Date): Promise<Muting> {
  const [silenceRows, windowRows, inhibitionRows] = await Promise.all([
    db.execute('select * from silences where starts_at <= ? and ends_at > ? order by starts_at', [now, now]),
    db.execute('select * from maintenance_windows order by created_at'),
    db.execute('select * from inhibition_rules order by created_at'),
  ]);
  const silences = silenceRows.map((row: Record<string, unknown>) => {
    const silence = silenceFromRow(row, now);
    return { silence, matches: matcherOf(silence.matchers) };
  });
  const windows = windowRows
    .filter((row: Record<string, any>) => windowActive(schedule(row.cron, row.timezone), row.duration_minutes, now))
    .map((row: Record<string, any>) => ({ name: row.name as string, matches: matcherOf(row.matchers) }));
  const rules = inhibitionRows.map((row: Record<string, unknown>) => {
    const rule = inhibitionFromRow(row);
    return { source: matcherOf(rule.source), target: matcherOf(rule.target), equal: rule.equal };
  });
  const sameOn = (equal: string[], a: Labels, b: Labels) => equal.every((name) => (a[name] ?? '') === (b[name] ?? ''));
  const inhibitedBy = (rule: { source: Matches; target: Matches; equal: string[] }, alert: MutedAlert, sources: readonly MutedAlert[]) => {
    if (!rule.target(alert.labels)) return false;
    const bothSides = rule.source(alert.labels);
    return sources.some((source) => source.firing && source.id !== alert.id && rule.source(source.labels)
      && sameOn(rule.equal, source.labels, alert.labels) && !(bothSides && rule.target(source.labels)));
  };
  const muting: Muting = {
    silencedBy: (labels) => silences.filter((s: { matches: Matches }) => s.matches(labels)).map((s: { silence: Silence }) => s.silence),
    inWindows: (labels) => windows.filter((w: { matches: Matches }) => w.matches(labels)).map((w: { name: string }) => w.name),
    inhibited: (alert, sources) => rules.some((rule: { source: Matches; target: Matches; equal: string[] }) => inhibitedBy(rule, alert, sources)),
    muted: (alert, sources) => muting.silencedBy(alert.labels).length > 0 || muting.inWindows(alert.labels).length > 0 || muting.inhibited(alert, sources),
  };
  return muting;
}
