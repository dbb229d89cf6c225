/** Per-request batch loaders for incidents and their updates (shared data: no scoping). */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import { incidentsByIds, updatesByIncidents } from './rows.js';
import { MAX_INCIDENT_UPDATES, type Incident, type IncidentUpdate } from './types.js';

export function createStatusLoaders(em: Queryable) {
  return {
    incidentById: new DataLoader<string, Incident | null>((ids) => incidentsByIds(em, ids)),

    /** Newest first. */
    updatesByIncident: new DataLoader<string, IncidentUpdate[]>((ids) => updatesByIncidents(em, ids, MAX_INCIDENT_UPDATES)),
  };
}
