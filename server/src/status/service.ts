/**
 * Incidents: admins open one, post updates as they learn more, and resolve it; everyone the
 * status page admits reads them. Each change is one `mutate` (so it is audited); nothing is
 * published on the bus: the status page is read on request.
 */
import type { Context } from '../app/context.js';
import type { StatusPageMode } from '../app/config.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { codePoints } from '../core/text.js';
import { requireRole, requireViewer, Role, type Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, pageSize } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { mayRead } from '../graphql/selection.js';
import { mutate } from '../live/mutate.js';
import { currentComponents, knownComponents } from './components.js';
import { publicWindow, upcomingMaintenance } from './maintenance.js';
import * as rows from './rows.js';
import {
  INCIDENT_STATUSES, MAX_INCIDENT_COMPONENTS, MAX_INCIDENT_UPDATES, MAX_OPEN_ON_PAGE, MAX_RESOLVED_ON_PAGE, RECENT_DAYS,
  type Incident, type IncidentConnection, type IncidentInput, type IncidentsArgs, type IncidentStatus, type StatusPage,
} from './types.js';

const MAX_TITLE = 200;
const MAX_MESSAGE = 5_000;
const RESOLVED_MESSAGE = 'This incident has been resolved.';

function validText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (!trimmed || codePoints(trimmed) > max) throw badInput(`${field} must be 1 to ${max.toLocaleString('en')} characters`, { field });
  return trimmed;
}

function validStatus(status: string): IncidentStatus {
  if (!(INCIDENT_STATUSES as readonly string[]).includes(status)) throw badInput(`status must be one of ${INCIDENT_STATUSES.join(', ')}`, { field: 'status' });
  return status as IncidentStatus;
}

function validComponents(ctx: Context, components: string[]): string[] {
  const known = knownComponents(ctx.app);
  const unique = [...new Set(components.map((c) => c.trim()))];
  if (unique.length > MAX_INCIDENT_COMPONENTS) throw badInput(`at most ${MAX_INCIDENT_COMPONENTS} components`, { field: 'input.components' });
  const unknown = unique.filter((c) => !known.includes(c));
  if (unknown.length) throw badInput(`unknown component ${unknown.map((c) => `"${c.slice(0, 50)}"`).join(', ')}; known: ${known.join(', ')}`, { field: 'input.components' });
  return unique;
}

const requireAdmin = (viewer: Viewer | null) => requireRole(viewer, Role.ADMIN);

/** Every incident, newest first; any signed-in user. */
export async function listIncidents(ctx: Context, args: IncidentsArgs): Promise<IncidentConnection> {
  requireViewer(ctx.viewer);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('incidents', args.after) : null;
  const count = mayRead(ctx.operation.selected, 'IncidentConnection', 'totalCount');
  const page = await rows.incidentsPage(ctx.read, { first, after, count });
  const incidents = page.rows;
  for (const incident of incidents) ctx.loaders.incidentById.prime(incident.id, incident);
  return connectionOf('incidents', incidents, (incident) => incident.startedAt, page, after);
}

/** Opens an incident (INVESTIGATING) with its first update. */
export async function createIncident(ctx: Context, input: IncidentInput): Promise<Incident> {
  const viewer = requireAdmin(ctx.viewer);
  const title = validText(input.title, 'input.title', MAX_TITLE);
  const message = validText(input.message, 'input.message', MAX_MESSAGE);
  const components = validComponents(ctx, input.components);
  return mutate(ctx, async (tx) => {
    const incident = await rows.insertIncident(tx, { title, impact: input.impact, components });
    await rows.insertUpdate(tx, incident.id, 'INVESTIGATING', message, viewer.id);
    return incident;
  });
}

async function lockOpenIncident(tx: EntityManager, id: string): Promise<Incident> {
  const incident = await rows.lockIncident(tx, id);
  if (!incident) throw notFound('Incident');
  if (incident.status === 'RESOLVED') throw conflict('The incident is already RESOLVED; open a new one');
  return incident;
}

/** Adds an update and moves the incident to its status; RESOLVED closes it (like `resolveIncident`). */
export async function postIncidentUpdate(ctx: Context, id: string, status: string, message: string): Promise<Incident> {
  const viewer = requireAdmin(ctx.viewer);
  const next = validStatus(status);
  const text = validText(message, 'message', MAX_MESSAGE);
  return mutate(ctx, async (tx) => {
    await lockOpenIncident(tx, id);
    if ((await rows.updateCount(tx, id)) >= MAX_INCIDENT_UPDATES) throw conflict(`An incident holds at most ${MAX_INCIDENT_UPDATES} updates; resolve it and open a new one`);
    await rows.insertUpdate(tx, id, next, text, viewer.id);
    return rows.setIncidentStatus(tx, id, next);
  });
}

export function resolveIncident(ctx: Context, id: string, message: string | null | undefined): Promise<Incident> {
  return postIncidentUpdate(ctx, id, 'RESOLVED', message ?? RESOLVED_MESSAGE);
}

/** Open incidents newest first, then those resolved in the last `RECENT_DAYS` days, newest first. */
export async function pageIncidents(db: Queryable): Promise<Incident[]> {
  return rows.openAndRecentIncidents(db, MAX_OPEN_ON_PAGE, RECENT_DAYS, MAX_RESOLVED_ON_PAGE);
}

/** Whether `viewer` may see the status page: anyone when public, else signed-in users (GraphQL: also when the pages are off). */
export function maySeeStatus(mode: StatusPageMode, viewer: Viewer | null): boolean {
  return mode === 'public' || viewer !== null;
}

/** The `statusPage` query: STATUS_PAGE=public opens it to anyone. */
export async function statusPage(ctx: Context): Promise<StatusPage> {
  if (!maySeeStatus(ctx.app.config.statusPage, ctx.viewer)) requireViewer(ctx.viewer);
  const [components, incidents, maintenance] = await Promise.all([currentComponents(ctx.app), pageIncidents(ctx.read), upcomingMaintenance(ctx.read)]);
  for (const incident of incidents) ctx.loaders.incidentById.prime(incident.id, incident);
  return { components, incidents, maintenance: maintenance.map(({ window }) => (ctx.viewer ? window : publicWindow(window))) };
}
