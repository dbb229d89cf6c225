/** Checks a new workflow's input: names, limits, dependencies that exist and form no cycle. */
import { badInput } from '../core/errors.js';
import { codePoints } from '../core/text.js';
import type { CreateWorkflowInput, RetryPolicyInput, TaskInput } from './inputs.js';
import { MAX_NON_RETRYABLE_ERRORS, type RetryPolicy } from './task-entity.js';

export const LIMITS = {
  nameLength: 200,
  descriptionLength: 10_000,
  tasksPerWorkflow: 1_000,
  queueLength: 100,
  maxAttempts: 100,
  priority: 1_000,
  timeoutSeconds: 7 * 24 * 3600,
  heartbeatTimeoutSeconds: 24 * 3600,
};

export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 300;

const QUEUE = /^[A-Za-z0-9_.:-]+$/;

export interface ValidTask {
  name: string;
  dependsOn: string[];
  queue: string;
  maxAttempts: number;
  priority: number;
  timeoutSeconds: number | null;
  heartbeatTimeoutSeconds: number;
  retry: RetryPolicy | null;
}

export interface ValidWorkflow {
  name: string;
  description: string | null;
  tasks: ValidTask[];
}

function validName(value: string, field: string): string {
  const name = value.trim();
  if (!name) throw badInput(`${field} must not be empty`, { field });
  if (codePoints(name) > LIMITS.nameLength) throw badInput(`${field} is longer than ${LIMITS.nameLength} characters`, { field });
  return name;
}

/** A queue name, trimmed: what tasks are created with and what `claimTask` asks for. */
export function validQueue(value: string, field: string): string {
  const queue = value.trim();
  if (!queue || queue.length > LIMITS.queueLength || !QUEUE.test(queue)) {
    throw badInput(`${field} must be 1 to ${LIMITS.queueLength} letters, digits or _ . : -`, { field });
  }
  return queue;
}

/** A whole number in [min, max], or BAD_USER_INPUT naming the field. */
function integerIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(`${field} must be ${min} to ${max}`, { field });
  return value;
}

function validTask(task: TaskInput, index: number): ValidTask {
  const field = `tasks[${index}]`;
  const queue = validQueue(task.queue ?? 'default', `${field}.queue`);
  const maxAttempts = integerIn(task.maxAttempts ?? 1, 1, LIMITS.maxAttempts, `${field}.maxAttempts`);
  return {
    name: validName(task.name, `${field}.name`),
    dependsOn: [...new Set(task.dependsOn ?? [])],
    queue,
    maxAttempts,
    priority: integerIn(task.priority ?? 0, -LIMITS.priority, LIMITS.priority, `${field}.priority`),
    timeoutSeconds: task.timeoutSeconds == null ? null : integerIn(task.timeoutSeconds, 1, LIMITS.timeoutSeconds, `${field}.timeoutSeconds`),
    heartbeatTimeoutSeconds: integerIn(task.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, 1, LIMITS.heartbeatTimeoutSeconds, `${field}.heartbeatTimeoutSeconds`),
    retry: task.retry ? validRetry(task.retry, `${field}.retry`) : null,
  };
}

function numberIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isFinite(value) || value < min || value > max) throw badInput(`${field} must be ${min} to ${max}`, { field });
  return value;
}

/** A retry policy with its defaults filled in (initial 1 s, coefficient 2, maximum 300 s). */
function validRetry(retry: RetryPolicyInput, field: string): RetryPolicy {
  const initialIntervalSeconds = numberIn(retry.initialIntervalSeconds ?? 1, 0.1, LIMITS.heartbeatTimeoutSeconds, `${field}.initialIntervalSeconds`);
  const backoffCoefficient = numberIn(retry.backoffCoefficient ?? 2, 1, 100, `${field}.backoffCoefficient`);
  const maximumIntervalSeconds = numberIn(retry.maximumIntervalSeconds ?? Math.max(300, initialIntervalSeconds), initialIntervalSeconds, LIMITS.timeoutSeconds, `${field}.maximumIntervalSeconds`);
  const errors = retry.nonRetryableErrors ?? [];
  if (errors.length > MAX_NON_RETRYABLE_ERRORS) throw badInput(`${field}.nonRetryableErrors holds at most ${MAX_NON_RETRYABLE_ERRORS} error types`, { field: `${field}.nonRetryableErrors` });
  const nonRetryableErrors = errors.map((type, i) => {
    const label = validLabel(type, `${field}.nonRetryableErrors[${i}]`, WORKER_LIMITS.errorTypeLength);
    if (!label) throw badInput(`${field}.nonRetryableErrors[${i}] must not be empty`, { field: `${field}.nonRetryableErrors[${i}]` });
    return label;
  });
  return { initialIntervalSeconds, backoffCoefficient, maximumIntervalSeconds, nonRetryableErrors: [...new Set(nonRetryableErrors)] };
}

/** Throws BAD_USER_INPUT naming the first dependency cycle found, if any. */
function rejectCycles(tasks: ValidTask[]): void {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw badInput(`Dependency cycle: ${cycle.join(' → ')}`, { field: 'tasks' });
    }
    state.set(name, 'visiting');
    for (const dependency of byName.get(name)!.dependsOn) visit(dependency, [...path, name]);
    state.set(name, 'done');
  };
  for (const task of tasks) visit(task.name, []);
}

export function validateWorkflow(input: CreateWorkflowInput): ValidWorkflow {
  const description = input.description?.trim() || null;
  if (description && codePoints(description) > LIMITS.descriptionLength) {
    throw badInput(`description is longer than ${LIMITS.descriptionLength} characters`, { field: 'description' });
  }
  const inputs = input.tasks ?? [];
  if (inputs.length > LIMITS.tasksPerWorkflow) {
    throw badInput(`A workflow has at most ${LIMITS.tasksPerWorkflow} tasks`, { field: 'tasks' });
  }
  const tasks = inputs.map(validTask);
  const names = new Set<string>();
  for (const task of tasks) {
    if (names.has(task.name)) throw badInput(`Task name "${task.name}" is used twice`, { field: 'tasks' });
    names.add(task.name);
  }
  for (const task of tasks) {
    for (const dependency of task.dependsOn) {
      if (!names.has(dependency)) throw badInput(`Task "${task.name}" depends on unknown task "${dependency}"`, { field: 'tasks' });
      if (dependency === task.name) throw badInput(`Task "${task.name}" depends on itself`, { field: 'tasks' });
    }
  }
  rejectCycles(tasks);
  return { name: validName(input.name, 'name'), description, tasks };
}

/** What workers send: bounds on claims, attempts and the JSON they report. */
export const WORKER_LIMITS = {
  queuesPerClaim: 50,
  workerIdLength: 200,
  errorTypeLength: 200,
  outputBytes: 256 * 1024,
  detailsBytes: 64 * 1024,
  jsonDepth: 64,
};

/** The queues a claim may take from (`queue` and `queues` together), or null for any queue. */
export function validQueues(queue: string | null | undefined, queues: readonly string[] | null | undefined): string[] | null {
  if (queue == null && queues == null) return null;
  if (queues && queues.length === 0 && queue == null) throw badInput('queues must name at least one queue (leave it out for any queue)', { field: 'queues' });
  if (queues && queues.length > WORKER_LIMITS.queuesPerClaim) throw badInput(`queues names at most ${WORKER_LIMITS.queuesPerClaim} queues`, { field: 'queues' });
  const named = [...(queue == null ? [] : [validQueue(queue, 'queue')]), ...(queues ?? []).map((q, i) => validQueue(q, `queues[${i}]`))];
  return [...new Set(named)];
}

/** A short free-text label (a worker's id, an error's type), trimmed; empty is none. */
export function validLabel(value: string | null | undefined, field: string, maxLength: number): string | null {
  const label = value?.trim();
  if (!label) return null;
  if (codePoints(label) > maxLength) throw badInput(`${field} is longer than ${maxLength} characters`, { field });
  return label;
}

export function validAttempt(attempt: number | null | undefined): number | null {
  if (attempt == null) return null;
  if (!Number.isInteger(attempt) || attempt < 1) throw badInput('attempt must be a whole number from 1', { field: 'attempt' });
  return attempt;
}

/** Nesting deeper than `depth`, or a NUL character (PostgreSQL's jsonb refuses it), anywhere in a JSON value. */
function unstorable(value: unknown, depth: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? 'contains a NUL character' : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth <= 0) return `is nested more than ${WORKER_LIMITS.jsonDepth} levels deep`;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return 'contains a NUL character';
    const problem = unstorable(item, depth - 1);
    if (problem) return problem;
  }
  return null;
}

/** A JSON value a worker reports, serialized for a jsonb column, or null; past `maxBytes` (as UTF-8 JSON) BAD_USER_INPUT. */
export function validJson(value: unknown, field: string, maxBytes: number): string | null {
  if (value === undefined || value === null) return null;
  const problem = unstorable(value, WORKER_LIMITS.jsonDepth);
  if (problem) throw badInput(`${field} ${problem}`, { field });
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw badInput(`${field} is ${bytes} bytes as JSON; at most ${maxBytes} are kept`, { field, maxBytes });
  return text;
}
