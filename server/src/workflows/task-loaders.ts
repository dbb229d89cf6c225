/** Per-request batch loaders for tasks. A task is visible exactly when its workflow is. */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import type { Queryable } from '../db/read-routing.js';
import { columnsFor, type ColumnPlan } from '../graphql/selection.js';
import { asInstance, groupBy, toDate, uuidArray } from '../db/sql.js';
import { Task, TaskRun, type TaskStatus } from './task-entity.js';

/** Task.runs shows this many of a task's runs at most: the newest, oldest first (retryTask can add more than maxAttempts). */
export const RUNS_SHOWN = 100;

function runFromRow(row: Record<string, any>): TaskRun {
  return asInstance(TaskRun, {
    attempt: row.attempt,
    workerId: row.worker_id,
    readyAt: toDate(row.ready_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    outcome: row.outcome,
    error: row.error,
    errorType: row.error_type,
  });
}

export function taskFromRow(row: Record<string, any>): Task {
  return asInstance(Task, {
    id: row.id,
    workflowId: row.workflow_id,
    name: row.name,
    position: row.position,
    status: row.status as TaskStatus,
    queue: row.queue,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    timeoutSeconds: row.timeout_seconds,
    heartbeatTimeoutSeconds: row.heartbeat_timeout_seconds,
    retry: row.retry,
    nextAttemptAt: toDate(row.next_attempt_at),
    leaseExpiresAt: toDate(row.lease_expires_at),
    lastHeartbeatAt: toDate(row.last_heartbeat_at),
    heartbeatDetails: row.heartbeat_details,
    workerId: row.worker_id,
    error: row.error,
    errorType: row.error_type,
    output: row.output,
    traceparent: row.traceparent,
    readyAt: toDate(row.ready_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    dependsOnIds: row.depends_on_ids === undefined ? undefined : row.depends_on_ids ? row.depends_on_ids.split(',') : [],
  });
}

// Each task row carries the ids it depends on (one index probe per row), so `dependsOn` of a
// loaded list resolves from the loader cache without another statement.
// (As text: splitting 'a,b' is cheaper than pg's generic array parser, and uuids hold no commas.)
export const DEPENDS_ON_IDS = "array_to_string(array(select d.depends_on_id from task_dependencies d where d.task_id = t.id), ',')";

const TASK_PLAN: ColumnPlan = {
  columns: [
    'id', 'workflow_id', 'name', 'position', 'status', 'queue', 'attempts', 'max_attempts', 'priority', 'timeout_seconds', 'heartbeat_timeout_seconds', 'retry', 'next_attempt_at',
    'lease_expires_at', 'last_heartbeat_at', 'heartbeat_details', 'worker_id', 'error', 'error_type', 'output', 'traceparent', 'ready_at', 'started_at', 'finished_at', 'created_at', 'updated_at',
  ],
  // keys, declaration order, and what `Workflow.tasks(status:)` filters by
  always: ['id', 'workflow_id', 'position', 'status'],
  derived: { workflow: ['workflow_id'], durationMs: ['started_at', 'finished_at'], dependsOn: [DEPENDS_ON_IDS], runs: [] },
};
const TIMESTAMPS = new Set(['next_attempt_at', 'lease_expires_at', 'last_heartbeat_at', 'ready_at', 'started_at', 'finished_at', 'created_at', 'updated_at']);
const camelCase = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A select list for tasks and how its rows become them. */
interface TaskSelect {
  sql: string;
  toTask(row: Record<string, any>): Task;
}

const EVERY_COLUMN: TaskSelect = { sql: `t.*, ${DEPENDS_ON_IDS} as depends_on_ids`, toTask: taskFromRow };
const selects = new WeakMap<ReadonlySet<string>, TaskSelect>();

/**
 * The select list for the Task fields a query asks for (every column when unknown). Known
 * fields are read under their Task names, so each row is the task itself (made an instance in
 * place, its timestamps parsed): no second object per row, none of the 25 other properties.
 * Cached per selection (one per query document).
 */
function taskSelect(fields: ReadonlySet<string> | undefined): TaskSelect {
  if (!fields) return EVERY_COLUMN;
  const known = selects.get(fields);
  if (known) return known;
  const columns = columnsFor(TASK_PLAN, fields);
  let select = EVERY_COLUMN;
  if (columns) {
    const timestamps = columns.filter((column) => TIMESTAMPS.has(column)).map(camelCase);
    const dependsOn = columns.includes(DEPENDS_ON_IDS);
    select = {
      sql: columns.map((column) => (column === DEPENDS_ON_IDS ? `${column} as "dependsOnIds"` : column.includes('_') ? `t.${column} as "${camelCase(column)}"` : `t.${column}`)).join(', '),
      toTask(row) {
        for (const field of timestamps) row[field] = toDate(row[field]);
        if (dependsOn) row.dependsOnIds = row.dependsOnIds ? row.dependsOnIds.split(',') : [];
        return asInstance(Task, row as Task);
      },
    };
  }
  selects.set(fields, select);
  return select;
}

const byPosition = (a: Task, b: Task) => a.position - b.position;

/** `fields`: the Task fields the operation selects, when known (queries), asked when a batch runs. */
export function createTaskLoaders(em: Queryable, viewer: Viewer | null, fields: () => ReadonlySet<string> | undefined = () => undefined) {
  const scope = viewer ? workflowScope(viewer) : null;
  // Every task this request has loaded (all visible to the viewer), for synchronous lookups.
  const loaded = new Map<string, Task>();
  const remember = (task: Task) => {
    loaded.set(task.id, task);
    return task;
  };

  // Tasks a list already brought in are answered from `loaded`, not primed one by one.
  const taskById = new DataLoader<string, Task | null>(async (ids) => {
    const missing = ids.filter((id) => !loaded.has(id));
    if (missing.length) {
      const select = taskSelect(fields());
      const rows = await em.execute(
        scope
          ? `select ${select.sql} from tasks t join workflows w on w.id = t.workflow_id where t.id = any(?::uuid[]) and w.owner_id = ?`
          : `select ${select.sql} from tasks t where t.id = any(?::uuid[])`,
        scope ? [uuidArray(missing), scope] : [uuidArray(missing)],
      );
      for (const row of rows) remember(select.toTask(row));
    }
    return ids.map((id) => loaded.get(id) ?? null);
  });

  /** The tasks each task waits for (always in the same workflow, so equally visible). */
  const dependenciesByTask = new DataLoader<string, Task[]>(async (ids) => {
    const tasks = await taskById.loadMany(ids);
    const dependencyIds = tasks.map((task) => (task && !(task instanceof Error) ? (task.dependsOnIds ?? []) : []));
    await taskById.loadMany([...new Set(dependencyIds.flat())]);
    return dependencyIds.map(knownTasks);
  });

  /** The loaded tasks among `ids` (the visible ones), in declaration order. */
  const knownTasks = (ids: string[]): Task[] => {
    const tasks: Task[] = [];
    for (const id of ids) {
      const task = loaded.get(id);
      if (task) tasks.push(task);
    }
    return tasks.length > 1 ? tasks.sort(byPosition) : tasks;
  };

  return {
    taskById,

    /** A task this request read in full (dependsOnIds included) elsewhere, e.g. the one it just claimed: later lookups answer from it. */
    primeTask(task: Task): void {
      taskById.clear(task.id).prime(task.id, remember(task));
    },

    /** All tasks of (visible) workflows, in the order they were declared. */
    tasksByWorkflow: new DataLoader<string, Task[]>(async (ids) => {
      const select = taskSelect(fields());
      const rows = await em.execute(`select ${select.sql} from tasks t where t.workflow_id = any(?::uuid[]) order by t.position`, [uuidArray(ids)]);
      const tasks = rows.map((row) => remember(select.toTask(row)));
      return groupBy(ids, tasks, (t) => t.workflowId);
    }),

    dependenciesByTask,

    /** The runs of (visible) tasks: their newest RUNS_SHOWN, oldest first. */
    runsByTask: new DataLoader<string, TaskRun[]>(async (ids) => {
      const rows = await em.execute(
        `select * from (select r.*, row_number() over (partition by r.task_id order by r.id desc) as newest
                          from task_runs r where r.task_id = any(?::uuid[])) runs
          where newest <= ? order by id`,
        [uuidArray(ids), RUNS_SHOWN],
      );
      return groupBy(ids, rows, (row) => row.task_id).map((runs) => runs.map(runFromRow));
    }),

    /**
     * A task's dependencies, in declaration order. For a task of a list this request loaded,
     * they are known already and come back without a promise or a batch (one per task adds
     * up on large lists); otherwise (a mutation's result) through `dependenciesByTask`.
     */
    dependenciesOf(task: Task): Task[] | Promise<Task[]> {
      const ids = task.dependsOnIds;
      if (ids && loaded.has(task.id)) {
        const known = knownTasks(ids);
        if (known.length === ids.length) return known;
      }
      return dependenciesByTask.load(task.id);
    },
  };
}

export type TaskLoaders = ReturnType<typeof createTaskLoaders>;
