/** Per-request batch loaders for incidents and their updates (shared data: no scoping). */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import { groupBy, indexBy, toDate, uuidArray } from '../db/sql.js';
import type { Severity } from '../alerts/types.js';
import { Incident, IncidentUpdate, MAX_INCIDENT_UPDATES } from './types.js';

export function incidentFromRow(row: Record<string, any>): Incident {
  return Object.assign(new Incident(), {
    id: row.id,
    title: row.title,
    status: row.status,
    impact: row.impact as Severity,
    components: row.components ?? [],
    startedAt: toDate(row.started_at),
    resolvedAt: toDate(row.resolved_at),
  });
}

function updateFromRow(row: Record<string, any>): IncidentUpdate & { incidentId: string } {
  return Object.assign(new IncidentUpdate(), {
    id: row.id, incidentId: row.incident_id, at: toDate(row.at), status: row.status, message: row.message, authorId: row.author_id,
  });
}

export function createStatusLoaders(em: Queryable) {
  return {
    incidentById: new DataLoader<string, Incident | null>(async (ids) => {
      const rows = await em.execute('select * from incidents where id = any(?::uuid[])', [uuidArray(ids)]);
      return indexBy(ids, rows.map(incidentFromRow), (i) => i.id);
    }),

    /** Newest first. */
    updatesByIncident: new DataLoader<string, IncidentUpdate[]>(async (ids) => {
      const rows = await em.execute(
        `select u.* from unnest(?::uuid[]) as i (id)
           cross join lateral (select * from incident_updates where incident_id = i.id order by at desc, id desc limit ?) u`,
        [uuidArray(ids), MAX_INCIDENT_UPDATES],
      );
      return groupBy(ids, rows.map(updateFromRow), (u) => u.incidentId);
    }),
  };
}
