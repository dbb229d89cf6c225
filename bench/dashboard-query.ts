/**
 * The dashboard query every benchmark sends, and what the limit servers and peers answer it
 * with: the same bytes, built by PostgreSQL (`PG_JSON_SQL`) or in Node from plain rows
 * (`DASHBOARD_ROWS_SQL` + `dashboardJson`).
 */
export const DASHBOARD_QUERY = `query Dashboard {
  workflows(first: 50) {
    edges {
      node {
        id name status
        owner { id name }
        tasks { id name status attempts dependsOn { id } }
        taskCounts { pending ready running succeeded failed cancelled total }
      }
    }
  }
}`;

export const DASHBOARD_BODY = JSON.stringify({ query: DASHBOARD_QUERY, operationName: 'Dashboard' });

export const PAGE_SIZE = 50;
export const TASK_STATUSES = ['PENDING', 'READY', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

/** Global ids as the server makes them: base64url of `Type:uuid`. */
export const globalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString('base64url');

// The same in SQL (short enough for PostgreSQL's base64 to have no line breaks).
const gid = (type: string, column: string) =>
  `translate(rtrim(encode(convert_to('${type}:' || ${column}, 'UTF8'), 'base64'), '='), '+/', '-_')`;
const str = (expression: string) => `to_json(${expression})::text`;

/**
 * The whole answer as compact JSON text, by string concatenation (json_build_object prints
 * `"key" : value`, other bytes than every GraphQL server sends, and json_agg over 1,050
 * rows cost the old limit ~39 ms of PostgreSQL CPU per request).
 */
export const PG_JSON_SQL = `
with page as (
  select id, owner_id, name, status, created_at from workflows order by created_at desc, id desc limit ${PAGE_SIZE}
)
select '{"data":{"workflows":{"edges":[' || coalesce(string_agg(
  '{"node":{"id":"' || ${gid('Workflow', 'p.id')} || '","name":' || ${str('p.name')} || ',"status":"' || p.status ||
  '","owner":{"id":"' || ${gid('User', 'u.id')} || '","name":' || ${str('u.name')} ||
  '},"tasks":[' || coalesce((
    select string_agg(
      '{"id":"' || ${gid('Task', 't.id')} || '","name":' || ${str('t.name')} || ',"status":"' || t.status ||
      '","attempts":' || t.attempts || ',"dependsOn":[' || coalesce((
        select string_agg('{"id":"' || ${gid('Task', 'dt.id')} || '"}', ',' order by dt.position)
        from task_dependencies d join tasks dt on dt.id = d.depends_on_id where d.task_id = t.id
      ), '') || ']}', ',' order by t.position)
    from tasks t where t.workflow_id = p.id
  ), '') || '],"taskCounts":' || (
    select '{"pending":' || count(*) filter (where status = 'PENDING') || ',"ready":' || count(*) filter (where status = 'READY') ||
      ',"running":' || count(*) filter (where status = 'RUNNING') || ',"succeeded":' || count(*) filter (where status = 'SUCCEEDED') ||
      ',"failed":' || count(*) filter (where status = 'FAILED') || ',"cancelled":' || count(*) filter (where status = 'CANCELLED') ||
      ',"total":' || count(*) || '}'
    from tasks where workflow_id = p.id
  ) || '}}', ',' order by p.created_at desc, p.id desc), '') || ']}}}' as body
from page p join users u on u.id = p.owner_id`;

/**
 * One statement, one row per task (workflow and owner columns repeated), only the columns
 * the answer needs; a task's dependencies as comma-separated ids (uuids hold no commas).
 */
export const DASHBOARD_ROWS_SQL = `
with page as (
  select id, owner_id, name, status, created_at from workflows order by created_at desc, id desc limit ${PAGE_SIZE}
)
select p.id as workflow_id, p.name as workflow_name, p.status as workflow_status, u.id as owner_id, u.name as owner_name,
  t.id, t.name, t.status, t.attempts, t.position, t.depends_on
from page p join users u on u.id = p.owner_id
-- lateral: a plain join lets the planner hash all 100,000 tasks
left join lateral (
  select t.id, t.name, t.status, t.attempts, t.position,
    (select string_agg(d.depends_on_id::text, ',') from task_dependencies d where d.task_id = t.id) as depends_on
  from tasks t where t.workflow_id = p.id
) t on true
order by p.created_at desc, p.id desc, t.position`;

export interface DashboardRow {
  workflow_id: string;
  workflow_name: string;
  workflow_status: string;
  owner_id: string;
  owner_name: string;
  id: string | null;
  name: string;
  status: string;
  attempts: number;
  position: number;
  depends_on: string | null;
}

/** The answer from `DASHBOARD_ROWS_SQL`'s rows: plain objects in selection order, one JSON.stringify. */
export function dashboardJson(rows: DashboardRow[]): string {
  const edges: unknown[] = [];
  let current = '';
  let tasks: Array<{ id: string; name: string; status: string; attempts: number; dependsOn: Array<{ id: string }> }> = [];
  let deps: Array<string[] | null> = [];
  let positions = new Map<string, number>();
  let counts: Record<string, number> = {};
  const finish = () => {
    // Dependencies in the order of their tasks' positions, as the schema promises.
    tasks.forEach((task, i) => {
      const ids = deps[i];
      if (ids) task.dependsOn = ids.sort((a, b) => positions.get(a)! - positions.get(b)!).map((id) => ({ id: globalId('Task', id) }));
    });
  };
  for (const row of rows) {
    if (row.workflow_id !== current) {
      finish();
      current = row.workflow_id;
      tasks = [];
      deps = [];
      positions = new Map();
      counts = { pending: 0, ready: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, total: 0 };
      edges.push({
        node: {
          id: globalId('Workflow', row.workflow_id), name: row.workflow_name, status: row.workflow_status,
          owner: { id: globalId('User', row.owner_id), name: row.owner_name }, tasks, taskCounts: counts,
        },
      });
    }
    if (row.id === null) continue;
    positions.set(row.id, row.position);
    deps.push(row.depends_on ? row.depends_on.split(',') : null);
    tasks.push({ id: globalId('Task', row.id), name: row.name, status: row.status, attempts: row.attempts, dependsOn: [] });
    counts[row.status.toLowerCase()]++;
    counts.total++;
  }
  finish();
  return JSON.stringify({ data: { workflows: { edges } } });
}
