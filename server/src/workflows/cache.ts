/** What the response cache keeps of workflows and tasks, and which workflow events retire it. */
import { cachedBy, type CachePolicy } from '../http/response-cache.js';
import type { EventBus } from '../live/bus/bus.js';
import { seesAllWorkflows } from './visibility.js';

const NAME = 'workflow-scope';

/** Field extensions of a root query field whose answer depends only on which workflows the viewer sees. */
export const WORKFLOW_SCOPED_CACHE = cachedBy(NAME);

/**
 * ADMIN and VIEWER see every workflow (scope "all"), a MEMBER only its own ("owner:<id>"). A
 * committed change to a workflow retires "all" and its owner's scope; an event with no owner,
 * everything.
 */
export function workflowCachePolicy(bus: EventBus): CachePolicy {
  return {
    name: NAME,
    scopeOf: (viewer) => (seesAllWorkflows(viewer) ? 'all' : `owner:${viewer.id}`),
    watch: (retire) => bus.on('workflow', (event) => retire(event.ownerId ? ['all', `owner:${event.ownerId}`] : null)),
  };
}
