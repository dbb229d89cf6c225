/**
 * Multiplexed subscriptions: for one event, each group of equal subscriptions on this replica
 * is executed once and serialized once, and every member sends the same payload bytes.
 *
 * Subscriptions are equal when their document, operation name and variables are the same and
 * their viewers see exactly the same data (`audienceOf`): subscribers who may see different
 * things are never in one group.
 *
 * Every subscriber keeps its own source stream (a resumed one replays its own history), but a
 * topic's streams hand the same event object to all their subscribers. So a group remembers,
 * per event object, the payload the first member to get there computed; the others reuse it.
 * Events one stream read on its own (a replay) are other objects and are executed for it alone.
 * The memory is weak: a payload goes once no stream holds its event any more.
 *
 * Members waiting for a payload are called back together when it is ready, rather than each
 * awaiting it: at thousands of members per event, a promise per member is most of the cost.
 */

/** Who waits for a payload: called with it, or with the error computing it failed with. */
export interface GroupMember {
  ready(json: string): void;
  failed(error: unknown): void;
}

export interface SubscriptionGroup {
  /**
   * Calls `member.ready` with the payload for `event` (at once when it is known), or
   * `member.failed`: `compute` runs for the first member to ask, the others share its result.
   */
  payload(event: unknown, compute: (event: unknown) => Promise<string>, member: GroupMember): void;
  /** Called by a member whose subscription has ended. */
  leave(): void;
}

/** The payload of one event for one group: known, failed, or awaited by these members. */
interface Payload {
  json?: string;
  failure?: { error: unknown };
  waiting: GroupMember[];
}

function computePayload(event: unknown, compute: (event: unknown) => Promise<string>): Payload {
  const payload: Payload = { waiting: [] };
  // One member's callback failing must not keep the payload from the others.
  const callEach = (call: (member: GroupMember) => void) => {
    for (const member of payload.waiting.splice(0)) {
      try {
        call(member);
      } catch (error) {
        member.failed(error);
      }
    }
  };
  compute(event).then(
    (json) => {
      payload.json = json;
      callEach((member) => member.ready(json));
    },
    (error: unknown) => {
      payload.failure = { error };
      callEach((member) => member.failed(error));
    },
  );
  return payload;
}

export interface SubscriptionGroups {
  join(key: string): SubscriptionGroup;
  /** groups with at least one member */
  readonly size: number;
  /** members of all groups: the subscriptions following events on this replica */
  readonly members: number;
}

export function createSubscriptionGroups(): SubscriptionGroups {
  const groups = new Map<string, { members: number; group: SubscriptionGroup }>();
  let members = 0;

  const create = (key: string) => {
    const payloads = new WeakMap<object, Payload>();
    const entry = {
      members: 0,
      group: {
        payload(event: unknown, compute: (event: unknown) => Promise<string>, member: GroupMember) {
          const shareable = typeof event === 'object' && event !== null;
          let payload = shareable ? payloads.get(event) : undefined;
          if (!payload) {
            payload = computePayload(event, compute);
            if (shareable) payloads.set(event, payload);
          }
          if (payload.json !== undefined) member.ready(payload.json);
          else if (payload.failure) member.failed(payload.failure.error);
          else payload.waiting.push(member);
        },
        leave() {
          // A leave too many (from a group already gone) must not count against its successor.
          if (entry.members === 0) return;
          members--;
          if (--entry.members === 0 && groups.get(key) === entry) groups.delete(key);
        },
      },
    };
    groups.set(key, entry);
    return entry;
  };

  return {
    join(key) {
      const entry = groups.get(key) ?? create(key);
      entry.members++;
      members++;
      return entry.group;
    },
    get size() {
      return groups.size;
    },
    get members() {
      return members;
    },
  };
}

/** The group key of a subscription: what it asks for, and who is asking. */
export function subscriptionKey(audience: string, query: string, operationName: string | null | undefined, variables: unknown): string {
  return JSON.stringify([audience, operationName ?? null, variables ?? null, query]);
}
