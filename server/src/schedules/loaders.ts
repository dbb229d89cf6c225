/**
 * Per-request batch loaders for schedules, seen as workflows are (workflows/visibility.ts):
 * ADMIN and VIEWER all, a MEMBER only its own; a hidden one loads as null.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { workflowScope } from '../workflows/visibility.js';
import { newestRuns, schedulesByIds } from './rows.js';
import type { Schedule } from './types.js';

export function createScheduleLoaders(db: Queryable, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    scheduleById: new DataLoader<string, Schedule | null>((ids) => schedulesByIds(db, ids, scope)),

    /** A schedule's newest `first` slots, newest first; the caller has checked visibility. */
    runsBySchedule: newestRuns(db),
  };
}
