/** Data access for incidents and their updates (ARCHITECTURE.md, "Data access"): their SQL and row mappers. */
import type { Severity } from '../alerts/types.js';
import { keysetPage, type CursorPosition } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, groupBy, indexBy, textArray, toDate, uuidArray } from '../db/sql.js';
import { Incident, IncidentUpdate, type IncidentStatus } from './types.js';

function incidentFromRow(row: Record<string, any>): Incident {
  return asInstance(Incident, {
    id: row.id,
    title: row.title,
    status: row.status,
    impact: row.impact as Severity,
    components: row.components ?? [],
    startedAt: toDate(row.started_at),
    resolvedAt: toDate(row.resolved_at),
  });
}

function updateFromRow(row: Record<string, any>): IncidentUpdate {
  return asInstance(IncidentUpdate, {
    id: row.id, incidentId: row.incident_id, at: toDate(row.at), status: row.status, message: row.message, authorId: row.author_id,
  });
}

export async function incidentsPage(db: Queryable, window: { first: number; after: CursorPosition | null; count: boolean }) {
  const page = await keysetPage(db, { table: 'incidents', timeColumn: 'started_at', filters: [], params: [], ...window });
  return { ...page, rows: page.rows.map(incidentFromRow) };
}

export async function incidentsByIds(db: Queryable, ids: readonly string[]): Promise<(Incident | null)[]> {
  const rows = await db.execute('select * from incidents where id = any(?::uuid[])', [uuidArray(ids)]);
  return indexBy(ids, rows.map(incidentFromRow), (i) => i.id);
}

/** Each incident's newest `limit` updates, newest first. */
export async function updatesByIncidents(db: Queryable, ids: readonly string[], limit: number): Promise<IncidentUpdate[][]> {
  const rows = await db.execute(
    `select u.* from unnest(?::uuid[]) as i (id)
       cross join lateral (select * from incident_updates where incident_id = i.id order by at desc, id desc limit ?) u`,
    [uuidArray(ids), limit],
  );
  return groupBy(ids, rows.map(updateFromRow), (u) => u.incidentId);
}

/** Open incidents newest first (at most `openLimit`), then those resolved in the last `days` days, newest first (at most `resolvedLimit`). */
export async function openAndRecentIncidents(db: Queryable, openLimit: number, days: number, resolvedLimit: number): Promise<Incident[]> {
  const [open, resolved] = await Promise.all([
    db.execute('select * from incidents where resolved_at is null order by started_at desc limit ?', [openLimit]),
    db.execute(`select * from incidents where resolved_at > now() - make_interval(days => ?) order by resolved_at desc limit ?`, [days, resolvedLimit]),
  ]);
  return [...open, ...resolved].map(incidentFromRow);
}

/** A new incident, INVESTIGATING. */
export async function insertIncident(tx: Queryable, incident: { title: string; impact: Severity; components: string[] }): Promise<Incident> {
  const [row] = await tx.execute(
    `insert into incidents (title, status, impact, components) values (?, 'INVESTIGATING', ?, ?::text[]) returning *`,
    [incident.title, incident.impact, textArray(incident.components)],
  );
  return incidentFromRow(row);
}

export async function insertUpdate(tx: Queryable, incidentId: string, status: IncidentStatus, message: string, authorId: string): Promise<void> {
  await tx.execute('insert into incident_updates (incident_id, status, message, author_id) values (?, ?, ?, ?)', [incidentId, status, message, authorId]);
}

export async function lockIncident(tx: Queryable, id: string): Promise<Incident | null> {
  const [row] = await tx.execute('select * from incidents where id = ? for update', [id]);
  return row ? incidentFromRow(row) : null;
}

export async function updateCount(db: Queryable, incidentId: string): Promise<number> {
  const [{ updates }] = await db.execute('select count(*)::int as updates from incident_updates where incident_id = ?', [incidentId]);
  return updates;
}

/** Moves the incident to `status`; RESOLVED sets its resolution time, any other clears it. */
export async function setIncidentStatus(tx: Queryable, id: string, status: IncidentStatus): Promise<Incident> {
  const [row] = await tx.execute(`update incidents set status = ?, resolved_at = case when ? = 'RESOLVED' then now() end where id = ? returning *`, [status, status, id]);
  return incidentFromRow(row);
}
