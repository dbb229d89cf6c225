/**
 * What changed between two versions of a template, task by task (matched by name): tasks
 * added, removed, and changed with each field that differs, in the newer version's order.
 */
import type { TaskTemplateFieldsFragment as TaskTemplate } from '$lib/graphql/generated/graphql';

export type TaskChange = 'added' | 'removed' | 'changed' | 'same';

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

export interface VersionDiff {
  /** every task of either version, the newer's order first, then what only the older had */
  tasks: { name: string; change: TaskChange; fields: FieldChange[] }[];
  added: number;
  removed: number;
  changed: number;
}

/** The fields a task is compared on, with how the page shows each. */
const FIELDS: [keyof TaskTemplate, string][] = [
  ['dependsOn', 'depends on'],
  ['queue', 'queue'],
  ['maxAttempts', 'max attempts'],
  ['priority', 'priority'],
  ['timeoutSeconds', 'timeout (s)'],
  ['heartbeatTimeoutSeconds', 'heartbeat timeout (s)'],
];

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(', ') : 'nothing';
  return value === null || value === undefined ? 'none' : String(value);
}

export function diffVersions(older: TaskTemplate[], newer: TaskTemplate[]): VersionDiff {
  const before = new Map(older.map((task) => [task.name, task]));
  const after = new Set(newer.map((task) => task.name));
  const tasks: VersionDiff['tasks'] = newer.map((task) => {
    const was = before.get(task.name);
    if (!was) return { name: task.name, change: 'added', fields: [] };
    const fields = FIELDS.filter(([key]) => shown(was[key]) !== shown(task[key])).map(([key, field]) => ({ field, from: shown(was[key]), to: shown(task[key]) }));
    return { name: task.name, change: fields.length ? 'changed' : 'same', fields };
  });
  for (const task of older) if (!after.has(task.name)) tasks.push({ name: task.name, change: 'removed', fields: [] });
  const count = (change: TaskChange) => tasks.filter((task) => task.change === change).length;
  return { tasks, added: count('added'), removed: count('removed'), changed: count('changed') };
}
