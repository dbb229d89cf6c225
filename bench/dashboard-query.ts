/**
 * The dashboard query every benchmark sends, and the hand-written SQL the limit server
 * answers it with: the same JSON, built entirely by PostgreSQL with json_agg.
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

// Global ids as the server makes them: base64url of `Type:uuid` (short enough to have no line breaks).
const gid = (type: string, column: string) =>
  `translate(rtrim(encode(convert_to('${type}:' || ${column}, 'UTF8'), 'base64'), '='), '+/', '-_')`;

export const LIMIT_SQL = `
with page as (
  select id, owner_id, name, status, created_at from workflows order by created_at desc, id desc limit 50
)
select json_build_object('data', json_build_object('workflows', json_build_object('edges', coalesce((
  select json_agg(json_build_object('node', json_build_object(
    'id', ${gid('Workflow', 'p.id')}, 'name', p.name, 'status', p.status,
    'owner', json_build_object('id', ${gid('User', 'u.id')}, 'name', u.name),
    'tasks', coalesce((
      select json_agg(json_build_object(
        'id', ${gid('Task', 't.id')}, 'name', t.name, 'status', t.status, 'attempts', t.attempts,
        'dependsOn', coalesce((
          select json_agg(json_build_object('id', ${gid('Task', 'dt.id')}) order by dt.position)
          from task_dependencies d join tasks dt on dt.id = d.depends_on_id where d.task_id = t.id
        ), '[]'::json)) order by t.position)
      from tasks t where t.workflow_id = p.id
    ), '[]'::json),
    'taskCounts', (
      select json_build_object(
        'pending', count(*) filter (where status = 'PENDING'), 'ready', count(*) filter (where status = 'READY'),
        'running', count(*) filter (where status = 'RUNNING'), 'succeeded', count(*) filter (where status = 'SUCCEEDED'),
        'failed', count(*) filter (where status = 'FAILED'), 'cancelled', count(*) filter (where status = 'CANCELLED'),
        'total', count(*))
      from tasks where workflow_id = p.id)
  )) order by p.created_at desc, p.id desc)
  from page p join users u on u.id = p.owner_id
), '[]'::json))))::text as body`;
