/**
 * Which workflows a viewer sees, and who sees the same ones. Reads filter by `workflowScope`;
 * shared answers (the response cache, multiplexed subscriptions) are keyed by `workflowAudience`.
 */
import { Role, type Viewer } from '../core/viewer.js';

/** ADMIN and VIEWER read every workflow; a MEMBER only its own. */
export function seesAllWorkflows(viewer: Viewer): boolean {
  return viewer.role !== Role.MEMBER;
}

/** The owner whose workflows the viewer is limited to, or null for all. */
export function workflowScope(viewer: Viewer): string | null {
  return seesAllWorkflows(viewer) ? null : viewer.id;
}

/**
 * Who sees the same workflows as `viewer`: everyone who reads all workflows with the same role,
 * or one member alone.
 */
export function workflowAudience(viewer: Viewer): string {
  return seesAllWorkflows(viewer) ? `role:${viewer.role}` : `owner:${viewer.id}`;
}
