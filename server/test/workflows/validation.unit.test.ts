/** validateWorkflow on its own: what a new workflow's input must be, without a database. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, LIMITS, validateWorkflow } from '../../src/workflows/validation.js';
import type { CreateWorkflowInput } from '../../src/workflows/inputs.js';

const input = (fields: Partial<CreateWorkflowInput>) => ({ name: 'w', ...fields }) as CreateWorkflowInput;

/** The BAD_USER_INPUT `work` throws: its message and field. */
function refusal(work: () => unknown): { message: string; field: unknown } {
  try {
    work();
  } catch (error) {
    const { message, extensions } = error as { message: string; extensions: Record<string, unknown> };
    expect(extensions.code).toBe('BAD_USER_INPUT');
    return { message, field: extensions.field };
  }
  throw new Error('expected a refusal');
}

describe('validateWorkflow', () => {
  it('trims names, fills in the task defaults and removes repeated dependencies', () => {
    const valid = validateWorkflow(input({ name: '  build ', description: '  ', tasks: [{ name: ' a ' }, { name: 'b', dependsOn: ['a', 'a'] }] as any }));
    expect(valid.name).toBe('build');
    expect(valid.description).toBeNull();
    expect(valid.tasks[0]).toEqual({ name: 'a', dependsOn: [], queue: 'default', maxAttempts: 1, priority: 0, timeoutSeconds: null, heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, retry: null });
    expect(valid.tasks[1].dependsOn).toEqual(['a']);
  });

  it('fills in a retry policy\'s defaults', () => {
    const [task] = validateWorkflow(input({ tasks: [{ name: 'a', maxAttempts: 3, retry: { nonRetryableErrors: ['E', 'E'] } }] as any })).tasks;
    expect(task.retry).toEqual({ initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 300, nonRetryableErrors: ['E'] });
  });

  it('refuses empty and over-long names, naming the field', () => {
    expect(refusal(() => validateWorkflow(input({ name: '   ' })))).toEqual({ message: 'name must not be empty', field: 'name' });
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'x'.repeat(LIMITS.nameLength + 1) }] as any }))).field).toBe('tasks[0].name');
    // Code points, not UTF-16 units: 200 emoji are a valid name.
    expect(validateWorkflow(input({ name: '🙂'.repeat(LIMITS.nameLength) })).name).toHaveLength(LIMITS.nameLength * 2);
  });

  it('refuses numbers out of range and bad queue names', () => {
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', maxAttempts: 0 }] as any }))).field).toBe('tasks[0].maxAttempts');
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', priority: 1.5 }] as any }))).field).toBe('tasks[0].priority');
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', queue: 'a b' }] as any }))).field).toBe('tasks[0].queue');
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', retry: { backoffCoefficient: 0.5 } }] as any }))).field).toBe('tasks[0].retry.backoffCoefficient');
  });

  it('refuses more tasks than the limit', () => {
    const tasks = Array.from({ length: LIMITS.tasksPerWorkflow + 1 }, (_, i) => ({ name: `t${i}` }));
    expect(refusal(() => validateWorkflow(input({ tasks } as any))).message).toContain(`at most ${LIMITS.tasksPerWorkflow} tasks`);
  });

  it('refuses a name used twice, unknown dependencies, a task depending on itself, and cycles', () => {
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a' }, { name: 'a' }] as any }))).message).toBe('Task name "a" is used twice');
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', dependsOn: ['z'] }] as any }))).message).toBe('Task "a" depends on unknown task "z"');
    expect(refusal(() => validateWorkflow(input({ tasks: [{ name: 'a', dependsOn: ['a'] }] as any }))).message).toBe('Task "a" depends on itself');
    const cycle = [{ name: 'a', dependsOn: ['c'] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }, { name: 'd', dependsOn: ['a'] }];
    expect(refusal(() => validateWorkflow(input({ tasks: cycle } as any))).message).toBe('Dependency cycle: a → c → b → a');
  });

  it('accepts a diamond (shared dependencies are not a cycle)', () => {
    const tasks = [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['a'] }, { name: 'd', dependsOn: ['b', 'c'] }];
    expect(validateWorkflow(input({ tasks } as any)).tasks.map((t) => t.name)).toEqual(['a', 'b', 'c', 'd']);
  });
});
