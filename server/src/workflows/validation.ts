/** Checks a new workflow's input: names, limits, dependencies that exist and form no cycle. */
import { badInput } from '../core/errors.js';
import { codePoints } from '../core/text.js';
import type { CreateWorkflowInput, TaskInput } from './inputs.js';

export const LIMITS = {
  nameLength: 200,
  descriptionLength: 10_000,
  tasksPerWorkflow: 1_000,
  queueLength: 100,
  maxAttempts: 100,
};

const QUEUE = /^[A-Za-z0-9_.:-]+$/;

export interface ValidTask {
  name: string;
  dependsOn: string[];
  queue: string;
  maxAttempts: number;
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

function validTask(task: TaskInput, index: number): ValidTask {
  const field = `tasks[${index}]`;
  const queue = validQueue(task.queue ?? 'default', `${field}.queue`);
  const maxAttempts = task.maxAttempts ?? 1;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > LIMITS.maxAttempts) {
    throw badInput(`${field}.maxAttempts must be 1 to ${LIMITS.maxAttempts}`, { field: `${field}.maxAttempts` });
  }
  return { name: validName(task.name, `${field}.name`), dependsOn: [...new Set(task.dependsOn ?? [])], queue, maxAttempts };
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
