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
 */

export interface SubscriptionGroup {
  /** The payload for `event`: from `compute` for the first member to ask, shared after that. */
  payload(event: unknown, compute: () => Promise<string>): Promise<string>;
  /** Called by a member whose subscription has ended. */
  leave(): void;
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
    const payloads = new WeakMap<object, Promise<string>>();
    const entry = {
      members: 0,
      group: {
        payload(event: unknown, compute: () => Promise<string>) {
          if (typeof event !== 'object' || event === null) return compute();
          let payload = payloads.get(event);
          if (!payload) {
            payload = compute();
            payloads.set(event, payload);
          }
          return payload;
        },
        leave() {
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
