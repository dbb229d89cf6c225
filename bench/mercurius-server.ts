/**
 * The best peer on Node 20: Fastify 5 + Mercurius 16 with graphql-jit (`jit: 1`: compiled
 * from the first repeat) and Mercurius loaders (one batched statement per field and request),
 * on the same tables, answering the dashboard query with the same bytes. Like the real server,
 * a task row carries its dependency ids, and `dependsOn` is answered from the tasks the
 * request loaded. No auth, no limits.
 *
 * Run: DATABASE_URL=… PORT=… node --import @swc-node/register/esm-register bench/mercurius-server.ts
 */
import Fastify from 'fastify';
import mercurius, { type MercuriusLoaders, type MercuriusOptions } from 'mercurius';
import pg from 'pg';
import { globalId, PAGE_SIZE, TASK_STATUSES } from './dashboard-query.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10), idleTimeoutMillis: 0 });

const schema = `
  enum WorkflowStatus { DRAFT PENDING RUNNING SUCCEEDED FAILED CANCELLED }
  enum TaskStatus { ${TASK_STATUSES.join(' ')} }
  type User { id: ID! name: String! }
  type Task { id: ID! name: String! status: TaskStatus! attempts: Int! dependsOn: [Task!]! }
  type TaskCounts { pending: Int! ready: Int! running: Int! succeeded: Int! failed: Int! cancelled: Int! total: Int! }
  type Workflow { id: ID! name: String! status: WorkflowStatus! owner: User! tasks: [Task!]! taskCounts: TaskCounts! }
  type WorkflowEdge { node: Workflow! }
  type WorkflowConnection { edges: [WorkflowEdge!]! }
  type Query { workflows(first: Int): WorkflowConnection! }
`;

interface TaskRow { id: string; workflow_id: string; name: string; status: string; attempts: number; position: number; depends_on: string | null }
interface WorkflowRow { id: string; owner_id: string; name: string; status: string }
interface Context { tasks: Map<string, TaskRow> }

const ids = (queries: Array<{ obj: { id: string } }>) => queries.map((q) => q.obj.id);

const resolvers = {
  Query: {
    workflows: async (_: unknown, { first }: { first?: number }) => {
      const { rows } = await pool.query<WorkflowRow>('select id, owner_id, name, status from workflows order by created_at desc, id desc limit $1', [first ?? PAGE_SIZE]);
      return { edges: rows.map((node) => ({ node })) };
    },
  },
  Workflow: { id: (w: WorkflowRow) => globalId('Workflow', w.id) },
  User: { id: (u: { id: string }) => globalId('User', u.id) },
  Task: {
    id: (t: TaskRow) => globalId('Task', t.id),
    dependsOn: (t: TaskRow, _: unknown, context: Context) =>
      t.depends_on ? t.depends_on.split(',').map((id) => context.tasks.get(id)!).sort((a, b) => a.position - b.position) : [],
  },
};

const loaders: MercuriusLoaders<Context> = {
  Workflow: {
    owner: async (queries) => {
      const { rows } = await pool.query('select id, name from users where id = any($1::uuid[])', [[...new Set(queries.map((q) => (q.obj as WorkflowRow).owner_id))]]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return queries.map((q) => byId.get((q.obj as WorkflowRow).owner_id));
    },
    tasks: async (queries, context) => {
      const { rows } = await pool.query<TaskRow>(
        `select t.id, t.workflow_id, t.name, t.status, t.attempts, t.position,
           (select string_agg(d.depends_on_id::text, ',') from task_dependencies d where d.task_id = t.id) as depends_on
         from tasks t where t.workflow_id = any($1::uuid[]) order by t.position`,
        [ids(queries as Array<{ obj: { id: string } }>)],
      );
      const byWorkflow = new Map<string, TaskRow[]>();
      for (const row of rows) {
        context.tasks.set(row.id, row);
        const list = byWorkflow.get(row.workflow_id);
        if (list) list.push(row);
        else byWorkflow.set(row.workflow_id, [row]);
      }
      return queries.map((q) => byWorkflow.get((q.obj as WorkflowRow).id) ?? []);
    },
    taskCounts: async (queries) => {
      const { rows } = await pool.query<{ workflow_id: string; status: string; n: number }>(
        'select workflow_id, status, count(*)::int as n from tasks where workflow_id = any($1::uuid[]) group by workflow_id, status',
        [ids(queries as Array<{ obj: { id: string } }>)],
      );
      const counts = new Map<string, Record<string, number>>();
      for (const id of ids(queries as Array<{ obj: { id: string } }>)) counts.set(id, { pending: 0, ready: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, total: 0 });
      for (const row of rows) {
        const c = counts.get(row.workflow_id)!;
        c[row.status.toLowerCase()] += row.n;
        c.total += row.n;
      }
      return queries.map((q) => counts.get((q.obj as WorkflowRow).id));
    },
  },
};

const app = Fastify({ logger: false });
const options = { schema, resolvers, loaders, jit: 1, context: (): Context => ({ tasks: new Map() }) } as unknown as MercuriusOptions;
await app.register(mercurius, options);
app.get('/api/health', async () => ({ status: 'healthy' }));
await app.listen({ port: Number(process.env.PORT ?? 4200), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
