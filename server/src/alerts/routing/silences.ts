/**
 * What mutes notifications, as data: silences (ADMIN or MEMBER; they end by themselves),
 * maintenance windows (recurring mute timings: cron + duration in a time zone) and inhibition
 * rules (both ADMIN only). Checked in full before anything is written.
 */
import type { Context } from '../../app/context.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { codePoints } from '../../core/text.js';
import { requireRole, requireViewer, requireWriter, Role } from '../../core/viewer.js';
import { textArray } from '../../db/sql.js';
import { mutate } from '../../live/mutate.js';
import { validateLabelNames, validateMatchers } from './matchers.js';
import { inhibitionFromRow, schedule, silenceFromRow, windowFromRow, windowOpenings } from './rows.js';
import type {
  InhibitionRule, InhibitionRuleInput, MaintenanceWindow, MaintenanceWindowInput, Silence, SilenceInput,
} from './types.js';

/** Silences listed (newest first) and kept pending or active at once; as many windows and rules. */
export const MAX_SILENCES = 500;
export const MAX_WINDOWS = 100;
export const MAX_INHIBITION_RULES = 100;
const MAX_SILENCE_DAYS = 366;
const MAX_WINDOW_MINUTES = 7 * 24 * 60;

function text(field: string, value: string, max: number): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(`${field} must not be empty`, { field });
  if (codePoints(trimmed) > max) throw badInput(`${field} is longer than ${max} characters`, { field });
  return trimmed;
}

function validDate(field: string, value: Date): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw badInput(`${field} must be a date`, { field });
  return value;
}

// ——— silences

export async function listSilences(ctx: Context, active?: boolean | null): Promise<Silence[]> {
  requireViewer(ctx.viewer);
  const filter = active == null ? '' : active ? 'where starts_at <= now() and ends_at > now()' : 'where not (starts_at <= now() and ends_at > now())';
  const rows = await ctx.em.execute(`select * from silences ${filter} order by created_at desc, id limit ?`, [MAX_SILENCES]);
  return rows.map((row: Record<string, unknown>) => silenceFromRow(row));
}

/** `startsAt` left out: now (on update: unchanged, `keptStart`). */
function validateSilence(input: SilenceInput, keptStart: Date | null) {
  const matchers = validateMatchers('matchers', input.matchers, { nonEmpty: true });
  const now = new Date();
  const startsAt = input.startsAt ? validDate('startsAt', input.startsAt) : (keptStart ?? now);
  const endsAt = validDate('endsAt', input.endsAt);
  if (endsAt <= startsAt) throw badInput('endsAt must be after startsAt', { field: 'endsAt' });
  if (endsAt <= now) throw badInput('endsAt must be in the future', { field: 'endsAt' });
  if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_DAYS * 86_400_000) throw badInput(`a silence lasts at most ${MAX_SILENCE_DAYS} days`, { field: 'endsAt' });
  return { matchers, startsAt, endsAt, comment: text('comment', input.comment, 1_000) };
}

export async function createSilence(ctx: Context, input: SilenceInput): Promise<Silence> {
  const viewer = requireWriter(ctx.viewer);
  const { matchers, startsAt, endsAt, comment } = validateSilence(input, null);
  return mutate(ctx, async (tx) => {
    const [{ n }] = await tx.execute('select count(*)::int as n from silences where ends_at > now()');
    if (n >= MAX_SILENCES) throw conflict(`At most ${MAX_SILENCES} active or pending silences; expire one first`);
    const [row] = await tx.execute(
      'insert into silences (matchers, starts_at, ends_at, comment, created_by) values (?::jsonb, ?, ?, ?, ?) returning *',
      [JSON.stringify(matchers), startsAt, endsAt, comment, viewer.id],
    );
    return silenceFromRow(row);
  });
}

/** Changes a pending or active silence (an ended one is a CONFLICT); `startsAt` left out stays as it was. */
export async function updateSilence(ctx: Context, id: string, input: SilenceInput): Promise<Silence> {
  requireWriter(ctx.viewer);
  return mutate(ctx, async (tx) => {
    const [before] = await tx.execute('select * from silences where id = ? for update', [id]);
    if (!before) throw notFound('Silence');
    const current = silenceFromRow(before);
    if (current.endsAt <= new Date()) throw conflict('The silence has already ended; create a new one');
    const { matchers, startsAt, endsAt, comment } = validateSilence(input, current.startsAt);
    const [row] = await tx.execute(
      'update silences set matchers = ?::jsonb, starts_at = ?, ends_at = ?, comment = ?, updated_at = now() where id = ? returning *',
      [JSON.stringify(matchers), startsAt, endsAt, comment, id],
    );
    return silenceFromRow(row);
  });
}

/** Ends it now (one not yet started never starts); an ended one is a CONFLICT. */
export async function expireSilence(ctx: Context, id: string): Promise<Silence> {
  requireWriter(ctx.viewer);
  return mutate(ctx, async (tx) => {
    const [before] = await tx.execute('select * from silences where id = ? for update', [id]);
    if (!before) throw notFound('Silence');
    if (silenceFromRow(before).endsAt <= new Date()) throw conflict('The silence has already ended');
    const [row] = await tx.execute(
      `update silences set starts_at = least(starts_at, now() - interval '1 millisecond'), ends_at = now(), updated_at = now() where id = ? returning *`,
      [id],
    );
    return silenceFromRow(row);
  });
}

// ——— maintenance windows

interface ValidWindow {
  name: string;
  matchers: unknown[];
  cron: string;
  durationMinutes: number;
  timezone: string;
}

function validTimezone(value: string | null | undefined): string {
  const zone = value?.trim() || 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw badInput(`timezone "${zone.slice(0, 60)}" is not an IANA time zone (such as Europe/Berlin)`, { field: 'timezone' });
  }
  return zone;
}

function validateWindow(input: MaintenanceWindowInput): ValidWindow {
  const timezone = validTimezone(input.timezone);
  const cron = input.cron.trim().replace(/\s+/g, ' ');
  if (cron.split(' ').length !== 5) throw badInput('cron must have five fields: minute hour day-of-month month day-of-week', { field: 'cron' });
  let next: Date | null;
  try {
    next = schedule(cron, timezone).nextRun();
  } catch (error) {
    throw badInput(`cron is not valid: ${(error as Error).message.replace(/^CronPattern: /, '')}`, { field: 'cron' });
  }
  if (!next) throw badInput('cron never fires (such as 30 February)', { field: 'cron' });
  const { durationMinutes } = input;
  if (!Number.isInteger(durationMinutes) || durationMinutes < 1 || durationMinutes > MAX_WINDOW_MINUTES) {
    throw badInput(`durationMinutes must be 1 to ${MAX_WINDOW_MINUTES}`, { field: 'durationMinutes' });
  }
  return { name: text('name', input.name, 100), matchers: validateMatchers('matchers', input.matchers, { nonEmpty: true }), cron, durationMinutes, timezone };
}

export async function listWindows(ctx: Context): Promise<MaintenanceWindow[]> {
  requireViewer(ctx.viewer);
  const rows = await ctx.em.execute('select * from maintenance_windows order by created_at, id limit ?', [MAX_WINDOWS]);
  return rows.map((row: Record<string, unknown>) => windowFromRow(row));
}

export const MAX_OPENINGS = 200;
const MAX_OPENING_RANGE_DAYS = 400;

/** When the window is open between from and to (a chart's range, at most 400 days). */
export function windowOpeningsBetween(window: MaintenanceWindow, from: Date, to: Date): Array<{ startsAt: Date; endsAt: Date }> {
  validDate('from', from);
  validDate('to', to);
  if (to <= from) throw badInput('to must be after from', { field: 'to' });
  if (to.getTime() - from.getTime() > MAX_OPENING_RANGE_DAYS * 86_400_000) throw badInput(`from and to are at most ${MAX_OPENING_RANGE_DAYS} days apart`, { field: 'to' });
  return windowOpenings(schedule(window.cron, window.timezone), window.durationMinutes, from, to, MAX_OPENINGS);
}

export async function createWindow(ctx: Context, input: MaintenanceWindowInput): Promise<MaintenanceWindow> {
  requireRole(ctx.viewer, Role.ADMIN);
  const window = validateWindow(input);
  return mutate(ctx, async (tx) => {
    const [{ n }] = await tx.execute('select count(*)::int as n from maintenance_windows');
    if (n >= MAX_WINDOWS) throw conflict(`At most ${MAX_WINDOWS} maintenance windows; delete one first`);
    const [row] = await tx.execute(
      'insert into maintenance_windows (name, matchers, cron, duration_minutes, timezone) values (?, ?::jsonb, ?, ?, ?) returning *',
      [window.name, JSON.stringify(window.matchers), window.cron, window.durationMinutes, window.timezone],
    );
    return windowFromRow(row);
  });
}

export async function updateWindow(ctx: Context, id: string, input: MaintenanceWindowInput): Promise<MaintenanceWindow> {
  requireRole(ctx.viewer, Role.ADMIN);
  const window = validateWindow(input);
  return mutate(ctx, async (tx) => {
    const [row] = await tx.execute(
      'update maintenance_windows set name = ?, matchers = ?::jsonb, cron = ?, duration_minutes = ?, timezone = ?, updated_at = now() where id = ? returning *',
      [window.name, JSON.stringify(window.matchers), window.cron, window.durationMinutes, window.timezone, id],
    );
    if (!row) throw notFound('Maintenance window');
    return windowFromRow(row);
  });
}

/** Deletes a window or an inhibition rule; NOT_FOUND when there is none. */
async function deleteRow(ctx: Context, table: 'maintenance_windows' | 'inhibition_rules', what: string, id: string): Promise<void> {
  requireRole(ctx.viewer, Role.ADMIN);
  await mutate(ctx, async (tx) => {
    const rows = await tx.execute(`delete from ${table} where id = ? returning id`, [id]);
    if (rows.length === 0) throw notFound(what);
  });
}

export const deleteWindow = (ctx: Context, id: string) => deleteRow(ctx, 'maintenance_windows', 'Maintenance window', id);

// ——— inhibition rules

/**
 * The source must pick out alerts (matchers an empty label fails), or every alert would inhibit.
 * The target needs at least one matcher but may match alerts lacking a label, as Alertmanager's
 * target matchers may: it mutes only while a firing source with the same `equal` labels exists,
 * and the built-in rule's `metric != component_up` is such a target.
 */
function validateInhibition(input: InhibitionRuleInput) {
  const source = validateMatchers('source', input.source, { nonEmpty: true });
  const target = validateMatchers('target', input.target, { nonEmpty: false });
  if (!target.length) throw badInput('target must have at least one matcher', { field: 'target' });
  return {
    source,
    target,
    equal: validateLabelNames('equal', input.equal ?? []),
  };
}

export async function listInhibitionRules(ctx: Context): Promise<InhibitionRule[]> {
  requireViewer(ctx.viewer);
  const rows = await ctx.em.execute('select * from inhibition_rules order by created_at, id limit ?', [MAX_INHIBITION_RULES]);
  return rows.map(inhibitionFromRow);
}

export async function createInhibitionRule(ctx: Context, input: InhibitionRuleInput): Promise<InhibitionRule> {
  requireRole(ctx.viewer, Role.ADMIN);
  const rule = validateInhibition(input);
  return mutate(ctx, async (tx) => {
    const [{ n }] = await tx.execute('select count(*)::int as n from inhibition_rules');
    if (n >= MAX_INHIBITION_RULES) throw conflict(`At most ${MAX_INHIBITION_RULES} inhibition rules; delete one first`);
    const [row] = await tx.execute(
      'insert into inhibition_rules (source, target, equal) values (?::jsonb, ?::jsonb, ?::text[]) returning *',
      [JSON.stringify(rule.source), JSON.stringify(rule.target), textArray(rule.equal)],
    );
    return inhibitionFromRow(row);
  });
}

export async function updateInhibitionRule(ctx: Context, id: string, input: InhibitionRuleInput): Promise<InhibitionRule> {
  requireRole(ctx.viewer, Role.ADMIN);
  const rule = validateInhibition(input);
  return mutate(ctx, async (tx) => {
    const [row] = await tx.execute(
      'update inhibition_rules set source = ?::jsonb, target = ?::jsonb, equal = ?::text[], updated_at = now() where id = ? returning *',
      [JSON.stringify(rule.source), JSON.stringify(rule.target), textArray(rule.equal), id],
    );
    if (!row) throw notFound('Inhibition rule');
    return inhibitionFromRow(row);
  });
}

export const deleteInhibitionRule = (ctx: Context, id: string) => deleteRow(ctx, 'inhibition_rules', 'Inhibition rule', id);
