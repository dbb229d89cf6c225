/**
 * Per-request batch loaders for templates. Templates are seen as workflows are
 * (workflows/visibility.ts): ADMIN and VIEWER all, a MEMBER only its own; a hidden one loads as null.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { workflowScope } from '../workflows/visibility.js';
import { newestVersions, templatesByIds } from './rows.js';
import type { WorkflowTemplate } from './types.js';

export function createTemplateLoaders(db: Queryable, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    templateById: new DataLoader<string, WorkflowTemplate | null>((ids) => templatesByIds(db, ids, scope)),

    /** A template's newest `first` versions, newest first; the caller has checked visibility. */
    versionsByTemplate: newestVersions(db),
  };
}
