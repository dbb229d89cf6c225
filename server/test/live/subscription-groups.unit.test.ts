/**
 * The group mechanism on its own: one computation per event and group, shared by every member,
 * failures included — the paths the socket tests cannot provoke at will.
 */
import { describe, expect, it } from 'vitest';
import { createSubscriptionGroups, type GroupMember } from '../../src/live/groups.js';

/** A member that records what it was called with. */
function recorder(onReady?: (json: string) => void) {
  const calls: Array<['ready', string] | ['failed', unknown]> = [];
  const member: GroupMember = {
    ready: (payload) => {
      calls.push(['ready', String(payload)]);
      onReady?.(String(payload));
    },
    failed: (error) => calls.push(['failed', error]),
  };
  return { member, calls };
}

/** A computation the test settles by hand, counting how often it was started. */
function deferred() {
  let settle!: { resolve: (json: string) => void; reject: (error: unknown) => void };
  const compute = Object.assign(
    (_event: unknown) => {
      compute.started++;
      return new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    },
    { started: 0 },
  );
  return { compute, settle: () => settle };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('subscription groups', () => {
  it('should compute an event once for all members, and answer later members at once', async () => {
    const group = createSubscriptionGroups().join('key');
    const event = { id: '1' };
    const { compute, settle } = deferred();
    const [a, b, late] = [recorder(), recorder(), recorder()];
    group.payload(event, compute, a.member);
    group.payload(event, compute, b.member);
    settle().resolve('{"data":1}');
    await flush();
    expect([a.calls, b.calls]).toEqual([[['ready', '{"data":1}']], [['ready', '{"data":1}']]]);
    group.payload(event, compute, late.member);
    expect(late.calls).toEqual([['ready', '{"data":1}']]);
    expect(compute.started).toBe(1);
  });

  it('should compute events that are not objects for each member', async () => {
    const group = createSubscriptionGroups().join('key');
    const compute = Object.assign(async () => `{"n":${++compute.started}}`, { started: 0 });
    const [a, b] = [recorder(), recorder()];
    group.payload('same text', compute, a.member);
    group.payload('same text', compute, b.member);
    await flush();
    expect([a.calls, b.calls]).toEqual([[['ready', '{"n":1}']], [['ready', '{"n":2}']]]);
  });

  it('should fail every member with the computation, without computing again', async () => {
    const group = createSubscriptionGroups().join('key');
    const event = { id: '2' };
    const { compute, settle } = deferred();
    const [a, b, late] = [recorder(), recorder(), recorder()];
    group.payload(event, compute, a.member);
    group.payload(event, compute, b.member);
    const failure = new Error('execution failed');
    settle().reject(failure);
    await flush();
    group.payload(event, compute, late.member);
    expect([a.calls, b.calls, late.calls]).toEqual([[['failed', failure]], [['failed', failure]], [['failed', failure]]]);
    expect(compute.started).toBe(1);
  });

  it('should keep calling the other members when one of them throws, and fail that one', async () => {
    const group = createSubscriptionGroups().join('key');
    const event = { id: '3' };
    const { compute, settle } = deferred();
    const broken = new Error('send failed');
    const thrower = recorder(() => {
      throw broken;
    });
    const other = recorder();
    group.payload(event, compute, thrower.member);
    group.payload(event, compute, other.member);
    settle().resolve('{}');
    await flush();
    expect(thrower.calls).toEqual([['ready', '{}'], ['failed', broken]]);
    expect(other.calls).toEqual([['ready', '{}']]);
  });

  it('should drop a group with its last member, and not let a stale leave drop its successor', () => {
    const groups = createSubscriptionGroups();
    const { member } = recorder();
    const first = groups.join('key');
    groups.join('key');
    expect([groups.size, groups.members]).toEqual([1, 2]);
    first.leave(member);
    first.leave(member);
    expect([groups.size, groups.members]).toEqual([0, 0]);
    const successor = groups.join('key');
    expect(successor).not.toBe(first);
    first.leave(member);
    expect([groups.size, groups.members]).toEqual([1, 1]);
  });
});

/** A source that shares once told it has caught up, and hands what it gets to the sink. */
function shareableSource(caughtUp = true) {
  const source = {
    caughtUp,
    sink: undefined as ((event: unknown) => void) | undefined,
    ended: undefined as (() => void) | undefined,
    share(sink: (event: unknown) => void, ended: () => void) {
      if (!source.caughtUp) return false;
      source.sink = sink;
      source.ended = ended;
      return true;
    },
  };
  return source;
}

describe('sharing members', () => {
  it('should compute each event once for every sharing member, and deliver in event order whatever finishes first', async () => {
    const group = createSubscriptionGroups().join('key');
    const computations: Array<{ event: unknown; settle: (json: string) => void }> = [];
    const compute = (event: unknown) => new Promise<string>((resolve) => computations.push({ event, settle: resolve }));
    const [a, b] = [recorder(), recorder()];
    const [sourceA, sourceB] = [shareableSource(), shareableSource()];
    expect(group.share(sourceA, compute, a.member, () => undefined)).toBe(true);
    expect(group.share(sourceB, compute, b.member, () => undefined)).toBe(true);
    // Both sources hand their events to the one sink of the group.
    expect(sourceB.sink).toBe(sourceA.sink);
    const [first, second] = [{ id: '1' }, { id: '2' }];
    sourceA.sink!(first);
    sourceA.sink!(second);
    expect(computations.map((c) => c.event)).toEqual([first, second]);
    computations[1].settle('"second"');
    await flush();
    expect(a.calls).toEqual([]);
    computations[0].settle('"first"');
    await flush();
    for (const { calls } of [a, b]) expect(calls).toEqual([['ready', '"first"'], ['ready', '"second"']]);
  });

  it('should not send a member the event it started sharing on a second time', async () => {
    const group = createSubscriptionGroups().join('key');
    const { compute, settle } = deferred();
    const sharer = recorder();
    const sharerSource = shareableSource();
    group.share(sharerSource, compute, sharer.member, () => undefined);
    const event = { id: '7' };
    sharerSource.sink!(event);
    // A reader of its own stream waits for the same event, and shares as soon as it has it.
    const reader = recorder(() => group.share(shareableSource(), compute, reader.member, () => undefined));
    group.payload(event, compute, reader.member);
    settle().resolve('{"n":7}');
    await flush();
    expect(reader.calls).toEqual([['ready', '{"n":7}']]);
    expect(sharer.calls).toEqual([['ready', '{"n":7}']]);
    expect(compute.started).toBe(1);
  });

  it('should not share a source that has not caught up, and stop delivering to a member that left', async () => {
    const group = createSubscriptionGroups().join('key');
    const compute = async () => '{}';
    const [stays, goes, behind] = [recorder(), recorder(), recorder()];
    const source = shareableSource();
    group.share(source, compute, stays.member, () => undefined);
    group.share(shareableSource(), compute, goes.member, () => undefined);
    expect(group.share(shareableSource(false), compute, behind.member, () => undefined)).toBe(false);
    group.leave(goes.member);
    source.sink!({ id: '1' });
    await flush();
    expect([stays.calls, goes.calls, behind.calls]).toEqual([[['ready', '{}']], [], []]);
  });
});
