/**
 * The group mechanism on its own: one computation per event and group, shared by every member,
 * failures included — the paths the socket tests cannot provoke at will.
 */
import { describe, expect, it } from 'vitest';
import { createSubscriptionGroups, type GroupMember } from '../../src/platform/subscription-groups.js';

/** A member that records what it was called with. */
function recorder(onReady?: (json: string) => void) {
  const calls: Array<['ready', string] | ['failed', unknown]> = [];
  const member: GroupMember = {
    ready: (json) => {
      calls.push(['ready', json]);
      onReady?.(json);
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
    const first = groups.join('key');
    groups.join('key');
    expect([groups.size, groups.members]).toEqual([1, 2]);
    first.leave();
    first.leave();
    expect([groups.size, groups.members]).toEqual([0, 0]);
    const successor = groups.join('key');
    expect(successor).not.toBe(first);
    first.leave();
    expect([groups.size, groups.members]).toEqual([1, 1]);
  });
});
