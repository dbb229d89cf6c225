/**
 * Contact points (admin only): validation per kind, settings sealed at rest and shown
 * redacted, the test message, and the ones the environment makes on first start.
 */
import type { AppServices, Context } from '../../app/context.js';
import { requireRole, requireViewer, Role } from '../../core/viewer.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { codePoints, truncate } from '../../core/text.js';
import { isUniqueViolation, type EntityManager } from '../../db/orm.js';
import { mutate } from '../../live/mutate.js';
import { CONTACT_KINDS, DeliveryError, payloadFor, type ContactKind, type ContactSettings, type Senders } from './channels.js';
import { groupMessage, messageAlert, testMessage, type AlertMessage } from './message.js';
import { DEFAULT_TEMPLATES, renderStrict, sampleMessage, validateTemplate } from './templates.js';
import { MessagePreview, type ContactPoint, type ContactPointInput, type Notification } from './types.js';
import { contactPointFromRow, FIELDS, notificationFromRow, redact, shownContactPoint, type StoredContactPoint } from './rows.js';

export const MAX_CONTACT_POINTS = 50;
const MAX_SETTING = 2_000;

function httpUrl(field: string, value: string): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch { /* refused below */ }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw badInput(`${field} must be an http or https URL`, { field });
  return value;
}

/**
 * The settings to store. On update, a secret left out or sent back as shown (redacted) keeps
 * its stored value, so a form can send back what it was given.
 */
export function validateSettings(kind: ContactKind, input: unknown, before: StoredContactPoint | null, smtpConfigured: boolean): ContactSettings {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badInput('settings must be an object', { field: 'settings' });
  const fields = FIELDS[kind];
  const previous = before?.kind === kind ? before.settings : {};
  const shownBefore = before?.kind === kind ? redact(kind, before.settings) : {};
  const settings: ContactSettings = {};
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const field = `settings.${name}`;
    if (!fields[name]) throw badInput(`${field}: a ${kind} contact point takes ${Object.keys(fields).join(', ')}`, { field });
    if (raw === null || raw === '') continue;
    if (typeof raw !== 'string') throw badInput(`${field} must be a string`, { field });
    if (codePoints(raw) > MAX_SETTING) throw badInput(`${field} is longer than ${MAX_SETTING} characters`, { field });
    settings[name] = raw === shownBefore[name] ? previous[name] : raw.trim();
  }
  for (const [name, field] of Object.entries(fields)) {
    if (settings[name] === undefined && field.secret && previous[name] !== undefined && !(name in (input as object))) settings[name] = previous[name];
    if (field.required && !settings[name]) throw badInput(`settings.${name} is required for ${kind}`, { field: `settings.${name}` });
  }
  if (settings.url) httpUrl('settings.url', settings.url);
  if (kind === 'EMAIL') {
    if (!smtpConfigured) throw badInput('settings: e-mail needs the server setting SMTP_URL', { field: 'settings' });
    const addresses = settings.to.split(',').map((a) => a.trim());
    if (addresses.some((a) => !/^[^@\s,]+@[^@\s,]+$/.test(a))) throw badInput('settings.to must be e-mail addresses, separated by commas', { field: 'settings.to' });
    settings.to = addresses.join(', ');
  }
  return settings;
}

function validName(value: string): string {
  const name = value.trim();
  if (!name) throw badInput('name must not be empty', { field: 'name' });
  if (codePoints(name) > 100) throw badInput('name is longer than 100 characters', { field: 'name' });
  return name;
}

function uniqueName<T>(work: Promise<T>, name: string): Promise<T> {
  return work.catch((error) => {
    if (isUniqueViolation(error)) throw conflict(`A contact point named "${name}" exists`);
    throw error;
  });
}

export async function listContactPoints(ctx: Context): Promise<ContactPoint[]> {
  requireViewer(ctx.viewer);
  const rows = await ctx.em.execute('select * from contact_points where deleted_at is null order by created_at, name limit ?', [MAX_CONTACT_POINTS]);
  return rows.map((row: Record<string, any>) => shownContactPoint(contactPointFromRow(row, ctx.app.secrets.open)));
}

async function lockContactPoint(ctx: Context, tx: EntityManager, id: string): Promise<StoredContactPoint> {
  const [row] = await tx.execute('select * from contact_points where id = ? and deleted_at is null for update', [id]);
  if (!row) throw notFound('Contact point');
  return contactPointFromRow(row, ctx.app.secrets.open);
}

function validKind(kind: string): ContactKind {
  if (!CONTACT_KINDS.includes(kind as ContactKind)) throw badInput(`kind must be one of ${CONTACT_KINDS.join(' ')}`, { field: 'kind' });
  return kind as ContactKind;
}

export async function createContactPoint(ctx: Context, input: ContactPointInput): Promise<ContactPoint> {
  requireRole(ctx.viewer, Role.ADMIN);
  const name = validName(input.name);
  const kind = validKind(input.kind);
  const settings = validateSettings(kind, input.settings, null, Boolean(ctx.app.config.smtpUrl));
  const template = validateTemplate(kind, input.template);
  return uniqueName(mutate(ctx, async (tx) => {
    const [{ points }] = await tx.execute('select count(*)::int as points from contact_points where deleted_at is null');
    if (points >= MAX_CONTACT_POINTS) throw conflict(`At most ${MAX_CONTACT_POINTS} contact points; delete one first`);
    const [row] = await tx.execute(
      'insert into contact_points (name, kind, enabled, settings_sealed, template) values (?, ?, ?, ?, ?) returning *',
      [name, kind, input.enabled ?? true, ctx.app.secrets.seal(JSON.stringify(settings)), template],
    );
    return shownContactPoint(contactPointFromRow(row, ctx.app.secrets.open));
  }), name);
}

export async function updateContactPoint(ctx: Context, id: string, input: ContactPointInput): Promise<ContactPoint> {
  requireRole(ctx.viewer, Role.ADMIN);
  const name = validName(input.name);
  const kind = validKind(input.kind);
  return uniqueName(mutate(ctx, async (tx) => {
    const before = await lockContactPoint(ctx, tx, id);
    const settings = validateSettings(kind, input.settings, before, Boolean(ctx.app.config.smtpUrl));
    // Left out: kept (checked again when the kind changes, as it escapes differently).
    const template = input.template === undefined ? (before.template === null ? null : validateTemplate(kind, before.template)) : validateTemplate(kind, input.template);
    const [row] = await tx.execute(
      'update contact_points set name = ?, kind = ?, enabled = ?, settings_sealed = ?, template = ?, updated_at = now() where id = ? returning *',
      [name, kind, input.enabled ?? before.enabled, ctx.app.secrets.seal(JSON.stringify(settings)), template, id],
    );
    return shownContactPoint(contactPointFromRow(row, ctx.app.secrets.open));
  }), name);
}

/** Kept for the notifications that name it; its queued messages are not sent any more. */
export async function deleteContactPoint(ctx: Context, id: string): Promise<void> {
  requireRole(ctx.viewer, Role.ADMIN);
  await mutate(ctx, async (tx) => {
    await lockContactPoint(ctx, tx, id);
    await tx.execute('update contact_points set deleted_at = now(), enabled = false, updated_at = now() where id = ?', [id]);
    await tx.execute(`update alert_notifications set status = 'FAILED', last_error = 'contact point deleted' where contact_point_id = ? and status = 'PENDING'`, [id]);
    // Routes stop naming it (a route left with none shows its alerts and sends them nowhere).
    await tx.execute('update notification_routes set contact_point_ids = array_remove(contact_point_ids, ?::uuid), escalate_to_ids = array_remove(escalate_to_ids, ?::uuid) where ? = any(contact_point_ids) or ? = any(escalate_to_ids)', [id, id, id, id]);
  });
}

/** Sends a test message now (not through the outbox) and records it with the receiver's answer. */
export async function testContactPoint(ctx: Context, senders: Senders, id: string): Promise<Notification> {
  requireRole(ctx.viewer, Role.ADMIN);
  const [row] = await ctx.em.execute('select * from contact_points where id = ? and deleted_at is null', [id]);
  if (!row) throw notFound('Contact point');
  const point = contactPointFromRow(row, ctx.app.secrets.open);
  const [{ uuid }] = await ctx.em.execute('select gen_random_uuid() as uuid');
  const message = testMessage(point.name, uuid, new Date());
  let response: string | null = null;
  let error: string | null = null;
  try {
    response = await senders.send(point.kind, point.settings, message, uuid, point.template);
  } catch (failure) {
    error = truncate((failure as Error).message, 500);
    response = failure instanceof DeliveryError ? (failure.answer ?? null) : null;
  }
  return mutate(ctx, async (tx) => {
    const [saved] = await tx.execute(
      `insert into alert_notifications (id, contact_point_id, channel, event, payload, status, attempts, last_error, response, delivered_at)
       values (?, ?, ?, 'TEST', ?::jsonb, ?, 1, ?, ?, ${error ? 'null' : 'now()'}) returning *`,
      [uuid, point.id, point.kind.toLowerCase(), JSON.stringify(message), error ? 'FAILED' : 'DELIVERED', error, response],
    );
    return notificationFromRow(saved);
  });
}

/** The variables that make a contact point on first start (each once: `from_env` remembers it). */
function fromEnvironment(config: AppServices['config']): Array<{ env: string; name: string; kind: ContactKind; settings: ContactSettings }> {
  const points: Array<{ env: string; name: string; kind: ContactKind; settings: ContactSettings }> = [];
  if (config.slackWebhookUrl) points.push({ env: 'SLACK_WEBHOOK_URL', name: 'Slack', kind: 'SLACK', settings: { url: config.slackWebhookUrl } });
  if (config.alertWebhookUrl) {
    points.push({ env: 'ALERT_WEBHOOK_URL', name: 'Webhook', kind: 'WEBHOOK', settings: { url: config.alertWebhookUrl, ...(config.alertWebhookSecret ? { secret: config.alertWebhookSecret } : {}) } });
  }
  if (config.smtpUrl && config.alertEmailTo) points.push({ env: 'SMTP_URL', name: 'E-mail', kind: 'EMAIL', settings: { to: config.alertEmailTo } });
  if (config.pagerdutyRoutingKey) points.push({ env: 'PAGERDUTY_ROUTING_KEY', name: 'PagerDuty', kind: 'PAGERDUTY', settings: { routingKey: config.pagerdutyRoutingKey } });
  return points;
}

/**
 * Makes the contact points the environment asks for, once per variable (a deleted one does
 * not come back), and gives messages queued before contact points existed the one of their channel.
 */
export async function ensureContactPointsFromEnvironment(app: AppServices): Promise<void> {
  const em = app.orm.em.fork() as EntityManager;
  for (const point of fromEnvironment(app.config)) {
    // A name taken by hand gets the variable's name beside it.
    await em.execute(
      `insert into contact_points (name, kind, settings_sealed, from_env)
       select case when exists (select 1 from contact_points where lower(name) = lower(?) and deleted_at is null) then ? else ? end, ?, ?, ?
       on conflict (from_env) do nothing`,
      [point.name, `${point.name} (${point.env})`, point.name, point.kind, app.secrets.seal(JSON.stringify(point.settings)), point.env],
    );
  }
  await em.execute(
    `update alert_notifications n set contact_point_id = c.id from contact_points c
      where n.contact_point_id is null and c.from_env is not null and c.deleted_at is null and lower(c.kind) = n.channel`,
  );
}

/** The message a real alert would make alone (as the first message of its group under the default policy's grouping). */
async function alertMessageOf(ctx: Context, alertId: string): Promise<AlertMessage> {
  const alert = await ctx.loaders.alertById.load(alertId);
  if (!alert) throw notFound('Alert');
  const rule = await ctx.loaders.alertRuleById.load(alert.ruleId);
  if (!rule) throw notFound('Alert rule');
  const shown = messageAlert(alert, rule);
  const groupLabels = { rule: alert.labels.rule ?? '', service: alert.labels.service ?? '' };
  const resolved = alert.status === 'RESOLVED';
  return groupMessage(resolved ? 'RESOLVED' : 'FIRING', resolved ? 'resolved' : 'first', `preview:${alert.id}`, groupLabels, resolved ? [] : [shown], resolved ? [shown] : []);
}

/**
 * What a contact point of `kind` would send with `template` (null: the kind's default) for the
 * alert `alertId`, or for a sample alert: admin only. A template that does not render is
 * BAD_USER_INPUT naming `template`, as on save. Secrets in the body are placeholders.
 */
export async function previewMessage(ctx: Context, kindInput: string, template: string | null | undefined, alertId: string | null): Promise<MessagePreview> {
  requireRole(ctx.viewer, Role.ADMIN);
  const kind = validKind(kindInput);
  const checked = validateTemplate(kind, template);
  const message = alertId ? await alertMessageOf(ctx, alertId) : sampleMessage(1);
  const rendered = renderStrict(kind, checked, message);
  const settings = Object.fromEntries(Object.keys(FIELDS[kind]).map((name) => [name, name === 'url' ? 'https://receiver.example' : name === 'to' ? 'oncall@example.com' : '••••••']));
  const payload = payloadFor(ctx.app.config, kind, settings, message, checked);
  const body = payload.kind === 'EMAIL'
    ? `Subject: ${payload.subject}\n\n${payload.html}`
    : JSON.stringify(JSON.parse(payload.body), null, 2);
  return Object.assign(new MessagePreview(), {
    kind, text: rendered.text, body, template: checked ?? DEFAULT_TEMPLATES[kind], truncated: rendered.truncated, sample: !alertId,
  });
}
