/**
 * Demo data: a member account that owns every demo workflow, and the workflows themselves,
 * shaped like real pipelines (chains, fan-in, retries) so the dashboard has something to show.
 */
import { randomBytes } from 'node:crypto';
import { createContext, type AppServices, type Context } from '../app/context.js';
import { Role, type Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { userWithPassword } from '../users/rows.js';
import { insertUser } from '../users/service.js';
import type { TaskInput } from '../workflows/inputs.js';
import { createWorkflow, startWorkflow } from '../workflows/service.js';

export const DEMO_EMAIL = 'demo@localhost';
/** The demo worker heart-beats at a third of this. */
export const DEMO_HEARTBEAT_TIMEOUT_SECONDS = 15;

interface Template {
  name: string;
  description: string;
  tasks: TaskInput[];
}

const TEMPLATES: Template[] = [
  {
    name: 'Nightly data import',
    description: 'Pulls yesterday’s orders from the shop, cleans them and loads the warehouse.',
    tasks: [
      { name: 'extract-orders' },
      { name: 'extract-customers' },
      { name: 'transform', dependsOn: ['extract-orders', 'extract-customers'], maxAttempts: 2 },
      { name: 'load-warehouse', dependsOn: ['transform'] },
      { name: 'refresh-report', dependsOn: ['load-warehouse'] },
    ],
  },
  {
    name: 'Deploy web app',
    description: 'Build, test and roll out the customer web app.',
    tasks: [
      { name: 'build' },
      { name: 'unit-tests', dependsOn: ['build'], maxAttempts: 2 },
      { name: 'migrate-database', dependsOn: ['unit-tests'] },
      { name: 'deploy', dependsOn: ['migrate-database'] },
      { name: 'smoke-test', dependsOn: ['deploy'], maxAttempts: 3 },
    ],
  },
  {
    name: 'Weekly billing run',
    description: 'Collects usage, computes invoices and e-mails them.',
    tasks: [
      { name: 'collect-usage' },
      { name: 'compute-invoices', dependsOn: ['collect-usage'] },
      { name: 'send-invoices', dependsOn: ['compute-invoices'], maxAttempts: 3 },
      { name: 'archive', dependsOn: ['send-invoices'] },
    ],
  },
  {
    name: 'Product image thumbnails',
    description: 'Renders thumbnails for new product photos in three sizes.',
    tasks: [
      { name: 'resize-small' },
      { name: 'resize-medium' },
      { name: 'resize-large' },
      { name: 'publish', dependsOn: ['resize-small', 'resize-medium', 'resize-large'] },
    ],
  },
  {
    name: 'Model refresh',
    description: 'Retrains the recommendation model and promotes it when it evaluates better.',
    tasks: [
      { name: 'fetch-features' },
      { name: 'train', dependsOn: ['fetch-features'], maxAttempts: 2 },
      { name: 'evaluate', dependsOn: ['train'] },
      { name: 'promote', dependsOn: ['evaluate'] },
    ],
  },
];

/** The demo account, made on first use; nobody signs in as it (its password is thrown away). */
export async function demoViewer(em: EntityManager): Promise<Viewer> {
  const user =
    (await userWithPassword(em, DEMO_EMAIL))?.user ??
    (await insertUser(em, { email: DEMO_EMAIL, name: 'Demo worker', password: randomBytes(24).toString('base64url'), role: Role.MEMBER }));
  return { id: user.id, email: user.email, name: user.name, role: user.role, credentialId: 'demo', credentialKind: 'api-token', credentialName: 'demo' };
}

export function demoContext(services: AppServices, viewer: Viewer): Context {
  return createContext(services, viewer, 'demo');
}

/** Creates the `index`-th template (cycling) as a new workflow; started unless `draft`. */
export async function createDemoWorkflow(services: AppServices, viewer: Viewer, index: number, draft = false): Promise<void> {
  const template = TEMPLATES[index % TEMPLATES.length];
  // A short lease: tasks a stopped or killed demo worker held run again within seconds.
  const tasks = template.tasks.map((task) => ({ ...task, heartbeatTimeoutSeconds: DEMO_HEARTBEAT_TIMEOUT_SECONDS }));
  const workflow = await createWorkflow(demoContext(services, viewer), { ...template, tasks });
  if (!draft) await startWorkflow(demoContext(services, viewer), workflow.id);
}

/** First start: one workflow of each kind, the last one left as a draft to start by hand. */
export async function seedDemoWorkflows(services: AppServices, viewer: Viewer): Promise<void> {
  for (let i = 0; i < TEMPLATES.length; i++) await createDemoWorkflow(services, viewer, i, i === TEMPLATES.length - 1);
}

/**
 * Whether to run the demo, and why (logged at every start): DEMO=1/0 decides; unset, it runs on
 * the embedded database while it holds no workflows but the demo's own (so it goes on after a
 * restart, and stays off from the first start after real work arrives). Never on an external
 * DATABASE_URL unless asked.
 */
export async function demoWanted(services: AppServices): Promise<{ on: boolean; reason: string }> {
  const { config, orm } = services;
  if (config.demo !== undefined) return { on: config.demo, reason: `DEMO=${config.demo ? 1 : 0}` };
  if (config.databaseUrl) return { on: false, reason: 'DATABASE_URL is set (DEMO=1 turns it on)' };
  const [row] = await orm.em.fork().execute(
    `select count(*)::int as others from workflows w join users u on u.id = w.owner_id where u.email <> ?`,
    [DEMO_EMAIL],
  );
  return row.others === 0
    ? { on: true, reason: 'the embedded database holds no workflows of your own yet; it stays off from the first start after you create one (DEMO=0 turns it off now, DEMO=1 keeps it)' }
    : { on: false, reason: `the database holds ${row.others} workflow(s) of your own (DEMO=1 turns it back on)` };
}
