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
 *
 * Once a member's stream has caught up (nothing of its own left to replay or buffer), it can
 * `share`: its stream then hands its events to the group's one sink instead of waking its
 * member, so an event reaches the group once however many members share, is computed once,
 * and the group calls each sharing member's `ready` in turn, in event order: per member and
 * event that call (the member's write) is all.
 */

/** Who waits for a payload: called with it, or with the error computing it failed with. */
export interface GroupMember {
  /** the payload's JSON, UTF-8 encoded once per group and event */
  ready(payload: Buffer): void;
  failed(error: unknown): void;
}

/** A member's source that can hand its later events to a sink shared with equal sources (event-feed.ts's streams can). */
export interface ShareableSource {
  /** False while the source has events of its own to deliver first; `ended` is called when it ends. */
  share(sink: (event: unknown) => void, ended: () => void): boolean;
}

export type Compute = (event: unknown) => Promise<string>;

export interface SubscriptionGroup {
  /**
   * Calls `member.ready` with the payload for `event` (at once when it is known), or
   * `member.failed`: `compute` runs for the first member to ask, the others share its result.
   */
  payload(event: unknown, compute: Compute, member: GroupMember): void;
  /**
   * Makes `source` hand its events to the group's sink, which gives `member` each later event's
   * payload (computed once by any sharing member's `compute`), in order. False when the source
   * cannot share yet: the member keeps reading it and asks again after its next event.
   */
  share(source: ShareableSource, compute: Compute, member: GroupMember, ended: () => void): boolean;
  /** Called by a member whose subscription has ended. */
  leave(member: GroupMember): void;
}

/** The payload of one event for one group: known, failed, or awaited by these members. */
interface Payload {
  bytes?: Buffer;
  failure?: { error: unknown };
  waiting: GroupMember[];
  /** settles with the computation */
  settled: Promise<void>;
}

/** Calls `member` with `payload` (known or failed); a member that throws is failed with its error. */
function deliver(payload: Payload, member: GroupMember): void {
  try {
    if (payload.failure) member.failed(payload.failure.error);
    else member.ready(payload.bytes!);
  } catch (error) {
    // One member's callback failing must not keep the payload from the others.
    member.failed(error);
  }
}

function computePayload(event: unknown, compute: Compute): Payload {
  const payload: Payload = { waiting: [], settled: Promise.resolve() };
  payload.settled = compute(event).then(
    (json) => {
      payload.bytes = Buffer.from(json);
    },
    (error: unknown) => {
      payload.failure = { error };
    },
  ).then(() => {
    for (const member of payload.waiting.splice(0)) deliver(payload, member);
  });
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
    const payloadFor = (event: unknown, compute: Compute): Payload => {
      const shareable = typeof event === 'object' && event !== null;
      let payload = shareable ? payloads.get(event) : undefined;
      if (!payload) {
        payload = computePayload(event, compute);
        if (shareable) payloads.set(event, payload);
      }
      return payload;
    };
    /** sharing members, with the number of the last event the sink had when they joined (they get the later ones) */
    const sharing = new Map<GroupMember, { after: number; compute: Compute }>();
    /** events the sink has had, numbered; the ones not yet delivered to the sharing members, in order */
    let received = 0;
    const outbox: Array<{ number: number; payload: Payload }> = [];
    const flush = () => {
      while (outbox.length && (outbox[0].payload.bytes || outbox[0].payload.failure)) {
        const { number, payload } = outbox.shift()!;
        // Members joining meanwhile (a reader caught up by this very event) come after it.
        for (const [member, { after }] of sharing) if (after < number) deliver(payload, member);
      }
    };
    const sink = (event: unknown) => {
      const first = sharing.values().next();
      // The sink is only ever registered while a member shares.
      if (first.done) return;
      const payload = payloadFor(event, first.value.compute);
      outbox.push({ number: ++received, payload });
      void payload.settled.then(flush);
    };
    const entry = {
      members: 0,
      group: {
        payload(event: unknown, compute: Compute, member: GroupMember) {
          const payload = payloadFor(event, compute);
          if (payload.bytes || payload.failure) deliver(payload, member);
          else payload.waiting.push(member);
        },
        share(source: ShareableSource, compute: Compute, member: GroupMember, ended: () => void) {
          if (!source.share(sink, ended)) return false;
          sharing.set(member, { after: received, compute });
          return true;
        },
        leave(member: GroupMember) {
          sharing.delete(member);
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
