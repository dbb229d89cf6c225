/**
 * The event bus. It only carries news: the `events` table is the truth. In-process by
 * default; the live-events work plugs Redis in behind the same interface.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { StoredEvent } from './event-log.js';

/** One typed map of topic → payload, so a typo in a topic fails to compile. */
export type Topics = {
  workflow: [StoredEvent];
};

export type EventBus = ReturnType<typeof createEventBus>;

export function createEventBus() {
  return createPubSub<Topics>();
}
