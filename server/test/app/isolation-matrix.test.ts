/**
 * The isolation audit: every root field of the schema (queries, mutations, subscriptions) ×
 * every kind of caller, asserting who gets data and who gets UNAUTHENTICATED / FORBIDDEN /
 * NOT_FOUND / null, and that nothing of a member's workflow leaks to another member or to
 * an anonymous caller through data, counts, nested fields or error messages.
 *
 * The matrix is built from the schema: a root field added without an entry here fails the
 * first test, so every new operation gets its access rules written down.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildAppSchema } from '../../src/app/schema.js';
import { UNAUDITED } from '../../src/audit/recorder.js';
import { connect, type LiveClient } from '../support/live.js';
import { startTestServer, type GraphQLResult, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { claim, newWorkflow, startedWorkflow } from '../support/workflows.js';

const ROLES = ['ADMIN', 'OWNER', 'VIEWER', 'OTHER', 'ANON'] as const;
type Role = (typeof ROLES)[number];
/** 'data': answered without error; 'null': answered with null (hidden); 'silent': a subscription that got nothing for its trigger; else the error code. */
type Outcome = 'data' | 'null' | 'silent' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'BAD_USER_INPUT' | 'CLOSED_4401';

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

interface Entry {
  /** what each role gets; several outcomes when the answer depends on state (a second acknowledge is a CONFLICT) */
  expect: Record<Role, Outcome | Outcome[]>;
  /** builds the operation for one role; may create fresh state so each role acts on its own copy */
  operation(role: Role): Promise<Operation> | Operation;
  /** extra checks on a role's data */
  check?(role: Role, data: any): void;
}

const SECRET = `secret-${randomBytes(4).toString('hex')}`;
let server: TestServer;
const tokens = {} as Record<Exclude<Role, 'ANON'>, string>;
const emails = {} as Record<Exclude<Role, 'ANON'>, string>;
let workflow: any;
let alertRuleId: string;
let alertId: string;
const clients: LiveClient[] = [];
let database: pg.Pool;

/** Audit entries of one mutation so far: a mutation that answers data wrote one, any other outcome none. */
async function audited(action: string): Promise<number> {
  return (await database.query('select count(*)::int as n from audit_log where action = $1', [action])).rows[0].n;
}

const signedIn = (data: Outcome, viewer: Outcome = data, member: Outcome = data): Record<Role, Outcome> => ({
  ADMIN: data, OWNER: member, OTHER: member, VIEWER: viewer, ANON: 'UNAUTHENTICATED',
});
/** ADMIN and the owner change it; another member finds nothing; a viewer may not change anything. */
const ownerWrite: Record<Role, Outcome> = { ADMIN: 'data', OWNER: 'data', OTHER: 'NOT_FOUND', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' };
/** ADMIN, the owner and viewers read it; another member gets null as if it did not exist. */
const ownerRead: Record<Role, Outcome> = { ADMIN: 'data', OWNER: 'data', OTHER: 'null', VIEWER: 'data', ANON: 'UNAUTHENTICATED' };
const adminOnly: Record<Role, Outcome> = { ADMIN: 'data', OWNER: 'FORBIDDEN', OTHER: 'FORBIDDEN', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' };
const writers: Record<Role, Outcome> = { ADMIN: 'data', OWNER: 'data', OTHER: 'data', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' };
const alertAction: Record<Role, Outcome[]> = {
  ADMIN: ['data', 'CONFLICT'], OWNER: ['data', 'CONFLICT'], OTHER: ['data', 'CONFLICT'], VIEWER: ['FORBIDDEN'], ANON: ['UNAUTHENTICATED'],
};

/** A fresh workflow of the owner's, on a queue of its own, in the state a mutation needs. */
async function ownersWorkflow(state: 'draft' | 'started' | 'running' | 'failed') {
  const queue = `q-${randomBytes(4).toString('hex')}`;
  const tasks = [{ name: 'a', queue }, { name: 'b', dependsOn: ['a'], queue }];
  if (state === 'draft') return { workflow: await newWorkflow(server, tokens.OWNER, tasks, SECRET), queue };
  const started = await startedWorkflow(server, tokens.OWNER, tasks, SECRET);
  if (state === 'started') return { workflow: started, queue };
  const task = await claim(server, tokens.OWNER, queue);
  if (state === 'failed') await server.gqlOk('mutation ($id: ID!) { failTask(id: $id, error: "x") { id } }', { id: task!.id }, tokens.OWNER);
  return { workflow: started, queue, task: task! };
}

/** A notification route that takes no alert of this test's, and a fresh one of the admin's. */
const ISO_ROUTE = '{ matchers: [{ label: "service", op: "=", value: "iso-nothing" }], contactPointIds: [] }';
const adminsRoute = () => adminsRow('createNotificationRoute', ISO_ROUTE);

/** Silences, maintenance windows and inhibition rules that match no alert of this test's, and fresh ones of the admin's. */
const ISO_MATCHERS = '[{ label: "service", op: "=", value: "iso-nothing" }]';
const ISO_SILENCE = () => `{ matchers: ${ISO_MATCHERS}, endsAt: "${new Date(Date.now() + 3_600_000).toISOString()}", comment: "iso" }`;
const ISO_WINDOW = `{ name: "iso window", matchers: ${ISO_MATCHERS}, cron: "0 3 * * 0", durationMinutes: 30 }`;
const ISO_INHIBITION = `{ source: ${ISO_MATCHERS}, target: ${ISO_MATCHERS}, equal: ["service"] }`;
async function adminsRow(create: string, input: string): Promise<string> {
  return (await server.gqlOk(`mutation { ${create}(input: ${input}) { id } }`, {}, tokens.ADMIN))[create].id;
}
const adminsSilence = () => adminsRow('createSilence', ISO_SILENCE());

/** A contact point of the admin's (the same one unless `name` asks for another); its URL refuses connections. */
const contactPointIds = new Map<string, string>();
async function adminsContactPoint(name = 'iso point'): Promise<string> {
  if (!contactPointIds.has(name)) {
    const { createContactPoint } = await server.gqlOk('mutation ($n: String!) { createContactPoint(input: { name: $n, kind: SLACK, settings: { url: "http://127.0.0.1:9/x" } }) { id } }', { n: name }, tokens.ADMIN);
    contactPointIds.set(name, createContactPoint.id);
  }
  return contactPointIds.get(name)!;
}

/** A fresh template of the owner's, named with the secret. */
async function ownersTemplate(): Promise<string> {
  const { createTemplate } = await server.gqlOk('mutation ($n: String!) { createTemplate(input: { name: $n, tasks: [{ name: "a" }] }) { id } }', { n: SECRET }, tokens.OWNER);
  return createTemplate.id;
}

/** A fresh schedule of the owner's (ALLOW, so a trigger always runs), on a template of its own. */
async function ownersSchedule(): Promise<string> {
  const { createSchedule } = await server.gqlOk('mutation ($t: ID!) { createSchedule(input: { templateId: $t, cron: "0 * * * *", overlapPolicy: ALLOW }) { id } }', { t: await ownersTemplate() }, tokens.OWNER);
  return createSchedule.id;
}

/** A fresh open incident, opened by the admin. */
async function adminsIncident(): Promise<string> {
  const { createIncident } = await server.gqlOk('mutation { createIncident(input: { title: "open", impact: HIGH, components: [], message: "looking" }) { id } }', {}, tokens.ADMIN);
  return createIncident.id;
}

const WORKFLOW_FIELDS = 'id name owner { email } tasks { id name workflow { id } dependsOn { id } } taskCounts { total }';
const ALERT_FIELDS = 'id status rule { id name }';

const MATRIX: Record<string, Entry> = {
  // --- queries ---
  'Query.node': { expect: ownerRead, operation: () => ({ query: `query ($id: ID!) { node(id: $id) { id ... on Workflow { ${WORKFLOW_FIELDS} } } }`, variables: { id: workflow.id } }) },
  'Query.workflow': { expect: ownerRead, operation: () => ({ query: `query ($id: ID!) { workflow(id: $id) { ${WORKFLOW_FIELDS} } }`, variables: { id: workflow.id } }) },
  'Query.task': { expect: ownerRead, operation: () => ({ query: 'query ($id: ID!) { task(id: $id) { id name workflow { name owner { email } } } }', variables: { id: workflow.tasks[0].id } }) },
  'Query.workflows': {
    expect: signedIn('data'),
    operation: () => ({ query: `{ workflows(first: 100) { totalCount edges { node { ${WORKFLOW_FIELDS} } } } }` }),
    check(role, data) {
      const ids = data.workflows.edges.map((e: any) => e.node.id);
      if (role === 'OTHER') expect(data.workflows.totalCount).toBe(0);
      else expect(ids).toContain(workflow.id);
      expect(ids.length).toBe(Math.min(data.workflows.totalCount, 100));
    },
  },
  'Query.taskQueues': {
    expect: signedIn('data'),
    operation: () => ({ query: '{ taskQueues { name ready running delayed } }' }),
    check: (role, data) => expect(data.taskQueues.find((q: any) => q.name === workflow.tasks[0].queue)?.ready).toBe(role === 'OTHER' ? undefined : 1),
  },
  'Query.viewer': {
    expect: { ...signedIn('data'), ANON: 'null' },
    operation: () => ({ query: '{ viewer { email } }' }),
    check: (role, data) => expect(data.viewer.email).toBe(emails[role as Exclude<Role, 'ANON'>]),
  },
  'Query.health': { expect: { ...signedIn('data'), ANON: 'data' }, operation: () => ({ query: '{ health { status } }' }) },
  'Query.apiTokens': {
    expect: signedIn('data'),
    operation: () => ({ query: '{ apiTokens { id name } }' }),
    check: (role, data) => expect(data.apiTokens.map((t: any) => t.name).includes(SECRET)).toBe(role === 'OWNER'),
  },
  'Query.metricNames': { expect: signedIn('data'), operation: () => ({ query: '{ metricNames }' }) },
  'Query.metricSeries': {
    expect: signedIn('data'),
    operation: () => ({ query: 'query ($f: DateTime!) { metricSeries(name: "iso_metric", from: $f) { value } }', variables: { f: new Date(Date.now() - 3_600_000).toISOString() } }),
  },
  'Query.alertRules': { expect: signedIn('data'), operation: () => ({ query: '{ alertRules { id name } }' }) },
  'Query.alerts': { expect: signedIn('data'), operation: () => ({ query: `{ alerts(first: 10) { totalCount edges { node { ${ALERT_FIELDS} } } } }` }) },
  'Query.alert': { expect: signedIn('data'), operation: () => ({ query: `query ($id: ID!) { alert(id: $id) { ${ALERT_FIELDS} } }`, variables: { id: alertId } }) },
  // pg_stat_statements may be missing on the test server: then the admin gets CONFLICT, everyone else still FORBIDDEN.
  'Query.slowQueries': { expect: { ...adminOnly, ADMIN: ['data', 'CONFLICT'] }, operation: () => ({ query: '{ slowQueries { query meanMs } }' }) },
  'Query.slowQuerySnapshots': { expect: adminOnly, operation: () => ({ query: '{ slowQuerySnapshots }' }) },
  'Query.operationsReport': {
    expect: adminOnly,
    operation: () => ({
      query: 'query ($f: DateTime!, $t: DateTime!) { operationsReport(from: $f, to: $t) { from alertsOpened errorRatePercent } }',
      variables: { f: new Date(Date.now() - 86_400_000).toISOString(), t: new Date().toISOString() },
    }),
  },
  'Query.auditLog': {
    expect: adminOnly,
    operation: () => ({ query: '{ auditLog(first: 100) { totalCount edges { node { action actor { email } details } } } }' }),
  },

  // STATUS_PAGE is private here (the default): signed-in users only; authors are signed-in data
  'Query.statusPage': {
    expect: signedIn('data'),
    operation: () => ({ query: '{ statusPage { components { name status uptime(days: 2) { date upPercent } } incidents { id title updates { message author { email } } } } }' }),
  },
  'Query.incidents': { expect: signedIn('data'), operation: () => ({ query: '{ incidents(first: 10) { totalCount edges { node { id title status } } } }' }) },

  'Query.templates': {
    expect: signedIn('data'),
    operation: async () => {
      await ownersTemplate();
      return { query: '{ templates(first: 100) { totalCount edges { node { id name owner { email } versions { version tasks { name } } } } } }' };
    },
    check: (role, data) => (role === 'OTHER' ? expect(data.templates.totalCount).toBe(0) : expect(data.templates.totalCount).toBeGreaterThan(0)),
  },
  'Query.template': {
    expect: ownerRead,
    operation: async () => ({ query: 'query ($id: ID!) { template(id: $id) { id name owner { email } versions { name } } }', variables: { id: await ownersTemplate() } }),
  },

  'Query.schedules': {
    expect: signedIn('data'),
    operation: async () => {
      await ownersSchedule();
      return { query: '{ schedules(first: 100) { totalCount edges { node { id cron owner { email } template { name } runs(first: 5) { totalCount edges { node { name } } } } } } }' };
    },
    check: (role, data) => (role === 'OTHER' ? expect(data.schedules.totalCount).toBe(0) : expect(data.schedules.totalCount).toBeGreaterThan(0)),
  },
  'Query.schedule': {
    expect: ownerRead,
    operation: async () => ({ query: 'query ($id: ID!) { schedule(id: $id) { id cron upcoming(count: 2) template { name } runs { totalCount } } }', variables: { id: await ownersSchedule() } }),
  },

  // --- mutations ---
  'Mutation.createSchedule': {
    expect: writers,
    // each writer schedules a template of its own; the others are refused before the template matters
    operation: async (role) => {
      const token = role === 'ADMIN' || role === 'OWNER' || role === 'OTHER' ? tokens[role] : tokens.OWNER;
      const { createTemplate } = await server.gqlOk('mutation { createTemplate(input: { name: "to schedule", tasks: [] }) { id } }', {}, token);
      return { query: 'mutation ($t: ID!) { createSchedule(input: { templateId: $t, cron: "@daily" }) { id nextRunAt } }', variables: { t: createTemplate.id } };
    },
  },
  'Mutation.updateSchedule': {
    expect: ownerWrite,
    async operation() {
      const id = await ownersSchedule();
      const { schedule } = await server.gqlOk('query ($id: ID!) { schedule(id: $id) { template { id } } }', { id }, tokens.OWNER);
      return { query: 'mutation ($id: ID!, $t: ID!) { updateSchedule(id: $id, input: { templateId: $t, cron: "@weekly" }) { id cron } }', variables: { id, t: schedule.template.id } };
    },
  },
  'Mutation.pauseSchedule': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { pauseSchedule(id: $id) { id paused } }', variables: { id: await ownersSchedule() } }) },
  'Mutation.resumeSchedule': {
    expect: ownerWrite,
    async operation() {
      const id = await ownersSchedule();
      await server.gqlOk('mutation ($id: ID!) { pauseSchedule(id: $id) { id } }', { id }, tokens.OWNER);
      return { query: 'mutation ($id: ID!) { resumeSchedule(id: $id) { id paused } }', variables: { id } };
    },
  },
  'Mutation.deleteSchedule': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { deleteSchedule(id: $id) }', variables: { id: await ownersSchedule() } }) },
  'Mutation.triggerSchedule': {
    expect: ownerWrite,
    operation: async () => ({ query: 'mutation ($id: ID!) { triggerSchedule(id: $id) { id name status schedule { id } } }', variables: { id: await ownersSchedule() } }),
  },
  'Mutation.backfillSchedule': {
    expect: ownerWrite,
    operation: async () => ({ query: 'mutation ($id: ID!) { backfillSchedule(id: $id, from: "2026-01-01T00:00:00Z", to: "2026-01-01T02:00:00Z") }', variables: { id: await ownersSchedule() } }),
  },
  'Mutation.createTemplate': { expect: writers, operation: () => ({ query: 'mutation { createTemplate(input: { name: "mine", tasks: [] }) { id latestVersion } }' }) },
  'Mutation.updateTemplate': {
    expect: ownerWrite,
    operation: async () => ({ query: 'mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "v2", tasks: [] }) { id latestVersion } }', variables: { id: await ownersTemplate() } }),
  },
  'Mutation.deleteTemplate': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { deleteTemplate(id: $id) }', variables: { id: await ownersTemplate() } }) },
  'Mutation.runTemplate': {
    expect: ownerWrite,
    operation: async () => ({ query: 'mutation ($id: ID!) { runTemplate(id: $id) { id status templateVersion template { name } } }', variables: { id: await ownersTemplate() } }),
  },
  'Mutation.login': {
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'data', VIEWER: 'data', ANON: 'data' },
    operation: (role) => ({ query: 'mutation ($e: String!) { login(email: $e, password: "password-123") { user { email } } }', variables: { e: emails[role === 'ANON' ? 'VIEWER' : role] } }),
  },
  'Mutation.signOut': { expect: signedIn('data'), operation: () => ({ query: 'mutation { signOut }' }) },
  'Mutation.createUser': {
    expect: adminOnly,
    operation: () => ({ query: 'mutation ($e: String!) { createUser(email: $e, name: "n", password: "password-123", role: VIEWER) { id } }', variables: { e: `u-${randomBytes(4).toString('hex')}@test.local` } }),
  },
  'Mutation.createApiToken': { expect: signedIn('data'), operation: () => ({ query: 'mutation { createApiToken(name: "matrix") }' }) },
  'Mutation.revokeApiToken': {
    expect: { ADMIN: 'NOT_FOUND', OWNER: 'data', OTHER: 'NOT_FOUND', VIEWER: 'NOT_FOUND', ANON: 'UNAUTHENTICATED' },
    async operation() {
      await server.gqlOk('mutation ($n: String!) { createApiToken(name: $n) }', { n: `${SECRET}-revoke` }, tokens.OWNER);
      const { apiTokens } = await server.gqlOk('{ apiTokens { id name } }', {}, tokens.OWNER);
      return { query: 'mutation ($id: ID!) { revokeApiToken(id: $id) }', variables: { id: apiTokens.find((t: any) => t.name === `${SECRET}-revoke`).id } };
    },
  },
  'Mutation.createWorkflow': { expect: writers, operation: () => ({ query: 'mutation { createWorkflow(input: { name: "mine" }) { id owner { email } } }' }) },
  'Mutation.startWorkflow': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { startWorkflow(id: $id) { id status } }', variables: { id: (await ownersWorkflow('draft')).workflow.id } }) },
  'Mutation.cancelWorkflow': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { cancelWorkflow(id: $id) { id status } }', variables: { id: (await ownersWorkflow('started')).workflow.id } }) },
  'Mutation.deleteWorkflow': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { deleteWorkflow(id: $id) }', variables: { id: (await ownersWorkflow('draft')).workflow.id } }) },
  'Mutation.bulkWorkflows': {
    // another member's filter matches none of the owner's workflows: "matches nothing" (BAD_USER_INPUT), no change, no audit
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'BAD_USER_INPUT', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' },
    async operation() {
      const tag = `bulk-${randomBytes(4).toString('hex')}`;
      await server.gqlOk('mutation ($n: String!) { createWorkflow(input: { name: $n }) { id } }', { n: `${SECRET} ${tag}` }, tokens.OWNER);
      return { query: 'mutation ($s: String!) { bulkWorkflows(filter: { search: $s }, action: CANCEL) { matched changed dryRun } }', variables: { s: tag } };
    },
    check: (_role, data) => expect(data.bulkWorkflows).toEqual({ matched: 1, changed: 1, dryRun: false }),
  },
  'Mutation.claimTask': {
    // Another member's claim finds nothing to do: it never takes the owner's task.
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'data', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' },
    operation: async () => ({ query: 'mutation ($q: String) { claimTask(queue: $q) { id workflow { name } } }', variables: { q: (await ownersWorkflow('started')).queue } }),
    check: (role, data) => (role === 'OTHER' ? expect(data.claimTask).toBeNull() : expect(data.claimTask.workflow.name).toBe(SECRET)),
  },
  'Mutation.claimTasks': {
    // As claimTask: another member's claim finds nothing of the owner's.
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'data', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' },
    operation: async () => ({ query: 'mutation ($q: [String!]) { claimTasks(limit: 5, queues: $q) { id workflow { name } } }', variables: { q: [(await ownersWorkflow('started')).queue] } }),
    check: (role, data) => (role === 'OTHER' ? expect(data.claimTasks).toEqual([]) : expect(data.claimTasks.map((t: any) => t.workflow.name)).toEqual([SECRET])),
  },
  'Mutation.completeAndClaimTasks': {
    // Another member's completion of the owner's task is refused as NOT_FOUND, and it claims nothing of the owner's.
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'data', VIEWER: 'FORBIDDEN', ANON: 'UNAUTHENTICATED' },
    async operation() {
      const { task, queue } = await ownersWorkflow('running');
      return {
        query: 'mutation ($c: [TaskCompletionInput!]!, $q: [String!]) { completeAndClaimTasks(completions: $c, claim: 2, queues: $q) { completed { id status } refused { taskId code message } next { id workflow { name } } } }',
        variables: { c: [{ id: task!.id, attempt: 1 }], q: [queue] },
      };
    },
    check: (role, data) => {
      const answer = data.completeAndClaimTasks;
      if (role === 'OTHER') expect(answer).toMatchObject({ completed: [], refused: [{ code: 'NOT_FOUND' }], next: [] });
      else expect(answer.next.map((t: any) => t.workflow.name)).toEqual([SECRET]);
    },
  },
  'Mutation.completeTask': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { completeTask(id: $id) { id status } }', variables: { id: (await ownersWorkflow('running')).task!.id } }) },
  'Mutation.completeAndClaimTask': {
    expect: ownerWrite,
    // the next claim is the dependant its completion readied (its own queue: no other test's task)
    async operation() {
      const { task, queue } = await ownersWorkflow('running');
      return { query: 'mutation ($id: ID!, $q: [String!]) { completeAndClaimTask(id: $id, attempt: 1, queues: $q) { completed { id status } next { id workflow { name } } } }', variables: { id: task!.id, q: [queue] } };
    },
    check: (_role, data) => expect(data.completeAndClaimTask.next.workflow.name).toBe(SECRET),
  },
  'Mutation.heartbeatTask': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { heartbeatTask(id: $id, attempt: 1, details: { at: "matrix" }) { id status } }', variables: { id: (await ownersWorkflow('running')).task!.id } }) },
  'Mutation.failTask': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { failTask(id: $id, error: "e") { id status } }', variables: { id: (await ownersWorkflow('running')).task!.id } }) },
  'Mutation.retryTask': { expect: ownerWrite, operation: async () => ({ query: 'mutation ($id: ID!) { retryTask(id: $id) { id status } }', variables: { id: (await ownersWorkflow('failed')).task!.id } }) },
  'Mutation.recordMetrics': { expect: writers, operation: () => ({ query: 'mutation { recordMetrics(samples: [{ name: "iso_other", service: "svc", value: 1 }]) }' }) },
  // the matrix's PostgreSQL has no pg_stat_statements: CONFLICT for the admin
  'Mutation.snapshotSlowQueries': { expect: { ...adminOnly, ADMIN: ['data', 'CONFLICT'] }, operation: () => ({ query: 'mutation { snapshotSlowQueries }' }) },
  'Mutation.createAlertRule': {
    expect: adminOnly,
    operation: () => ({ query: 'mutation { createAlertRule(input: { name: "r", metric: "m", comparator: ">", threshold: 1, severity: LOW }) { id } }' }),
  },
  'Mutation.updateAlertRule': {
    expect: adminOnly,
    operation: () => ({ query: 'mutation ($id: ID!) { updateAlertRule(id: $id, input: { name: "iso rule", metric: "iso_metric", comparator: ">", threshold: 0, severity: LOW }) { id } }', variables: { id: alertRuleId } }),
  },
  'Mutation.deleteAlertRule': {
    expect: adminOnly,
    async operation() {
      const { createAlertRule } = await server.gqlOk(
        'mutation ($n: String!) { createAlertRule(input: { name: $n, metric: "none", comparator: ">", threshold: 1, severity: LOW }) { id } }',
        { n: `doomed-${randomBytes(4).toString('hex')}` },
        tokens.ADMIN,
      );
      return { query: 'mutation ($id: ID!) { deleteAlertRule(id: $id) }', variables: { id: createAlertRule.id } };
    },
  },
  'Query.contactPoints': { expect: signedIn('data'), operation: () => ({ query: '{ contactPoints { id name kind settings } }' }) },
  'Mutation.createContactPoint': {
    expect: adminOnly,
    operation: () => ({ query: 'mutation ($n: String!) { createContactPoint(input: { name: $n, kind: SLACK, settings: { url: "http://127.0.0.1:9/x" } }) { id } }', variables: { n: `iso-${randomBytes(4).toString('hex')}` } }),
  },
  'Mutation.updateContactPoint': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { updateContactPoint(id: $id, input: { name: "iso point", kind: SLACK, settings: {} }) { id } }', variables: { id: await adminsContactPoint() } }),
  },
  'Mutation.deleteContactPoint': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { deleteContactPoint(id: $id) }', variables: { id: await adminsContactPoint(`doomed-${randomBytes(4).toString('hex')}`) } }),
  },
  'Mutation.testContactPoint': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { testContactPoint(id: $id) { status } }', variables: { id: await adminsContactPoint() } }),
  },
  'Query.previewContactPointMessage': {
    expect: adminOnly,
    operation: () => ({ query: '{ previewContactPointMessage(kind: SLACK, template: "{{ summary }}") { text body } }' }),
  },
  'Query.notificationRoutes': { expect: signedIn('data'), operation: () => ({ query: '{ notificationRoutes { id position matchers { label } contactPoints { id } } }' }) },
  'Mutation.createNotificationRoute': {
    expect: adminOnly,
    operation: () => ({ query: `mutation { createNotificationRoute(input: ${ISO_ROUTE}) { id } }` }),
  },
  'Mutation.updateNotificationRoute': {
    expect: adminOnly,
    operation: async () => ({ query: `mutation ($id: ID!) { updateNotificationRoute(id: $id, input: ${ISO_ROUTE}) { id } }`, variables: { id: await adminsRoute() } }),
  },
  'Mutation.moveNotificationRoute': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { moveNotificationRoute(id: $id, position: 1) { id position } }', variables: { id: await adminsRoute() } }),
  },
  'Mutation.deleteNotificationRoute': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { deleteNotificationRoute(id: $id) }', variables: { id: await adminsRoute() } }),
  },
  'Query.silences': { expect: signedIn('data'), operation: () => ({ query: '{ silences(active: true) { id matchers { label } createdBy { id } active } }' }) },
  'Mutation.createSilence': {
    expect: writers,
    operation: () => ({ query: `mutation { createSilence(input: ${ISO_SILENCE()}) { id } }` }),
  },
  'Mutation.updateSilence': {
    expect: writers,
    operation: async () => ({ query: `mutation ($id: ID!) { updateSilence(id: $id, input: ${ISO_SILENCE()}) { id } }`, variables: { id: await adminsSilence() } }),
  },
  'Mutation.expireSilence': {
    expect: writers,
    operation: async () => ({ query: 'mutation ($id: ID!) { expireSilence(id: $id) { id active } }', variables: { id: await adminsSilence() } }),
  },
  'Query.maintenanceWindows': { expect: signedIn('data'), operation: () => ({ query: '{ maintenanceWindows { id name activeNow } }' }) },
  'Mutation.createMaintenanceWindow': {
    expect: adminOnly,
    operation: () => ({ query: `mutation { createMaintenanceWindow(input: ${ISO_WINDOW}) { id } }` }),
  },
  'Mutation.updateMaintenanceWindow': {
    expect: adminOnly,
    operation: async () => ({ query: `mutation ($id: ID!) { updateMaintenanceWindow(id: $id, input: ${ISO_WINDOW}) { id } }`, variables: { id: await adminsRow('createMaintenanceWindow', ISO_WINDOW) } }),
  },
  'Mutation.deleteMaintenanceWindow': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { deleteMaintenanceWindow(id: $id) }', variables: { id: await adminsRow('createMaintenanceWindow', ISO_WINDOW) } }),
  },
  'Query.inhibitionRules': { expect: signedIn('data'), operation: () => ({ query: '{ inhibitionRules { id equal } }' }) },
  'Mutation.createInhibitionRule': {
    expect: adminOnly,
    operation: () => ({ query: `mutation { createInhibitionRule(input: ${ISO_INHIBITION}) { id } }` }),
  },
  'Mutation.updateInhibitionRule': {
    expect: adminOnly,
    operation: async () => ({ query: `mutation ($id: ID!) { updateInhibitionRule(id: $id, input: ${ISO_INHIBITION}) { id } }`, variables: { id: await adminsRow('createInhibitionRule', ISO_INHIBITION) } }),
  },
  'Mutation.deleteInhibitionRule': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { deleteInhibitionRule(id: $id) }', variables: { id: await adminsRow('createInhibitionRule', ISO_INHIBITION) } }),
  },
  'Mutation.createIncident': {
    expect: adminOnly,
    operation: () => ({ query: 'mutation { createIncident(input: { title: "t", impact: LOW, components: ["api"], message: "m" }) { id status } }' }),
  },
  'Mutation.postIncidentUpdate': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { postIncidentUpdate(id: $id, status: "IDENTIFIED", message: "found it") { id status } }', variables: { id: await adminsIncident() } }),
  },
  'Mutation.resolveIncident': {
    expect: adminOnly,
    operation: async () => ({ query: 'mutation ($id: ID!) { resolveIncident(id: $id) { id status } }', variables: { id: await adminsIncident() } }),
  },
  'Mutation.acknowledgeAlert': { expect: alertAction, operation: () => ({ query: `mutation ($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`, variables: { id: alertId } }) },
  'Mutation.resolveAlert': { expect: alertAction, operation: () => ({ query: `mutation ($id: ID!) { resolveAlert(id: $id) { ${ALERT_FIELDS} } }`, variables: { id: alertId } }) },

  // --- subscriptions (over WebSocket; a socket without credentials is closed with 4401) ---
  'Subscription.workflowEvents': {
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'NOT_FOUND', VIEWER: 'data', ANON: 'CLOSED_4401' },
    operation: () => ({ query: `subscription ($id: ID) { workflowEvents(workflowId: $id, after: "0") { kind workflow { ${WORKFLOW_FIELDS} } } }`, variables: { id: workflow.id } }),
  },
  'Subscription.alertEvents': {
    expect: { ...signedIn('data'), ANON: 'CLOSED_4401' },
    operation: () => ({ query: `subscription { alertEvents(after: "0") { kind alert { ${ALERT_FIELDS} } } }` }),
  },
  'Subscription.healthChanged': { expect: { ...signedIn('data'), ANON: 'CLOSED_4401' }, operation: () => ({ query: 'subscription { healthChanged { status } }' }) },
  // A member counts only its own workflows' tasks: the owner's queue is empty to another member.
  'Subscription.taskQueueChanged': {
    expect: { ...signedIn('data'), ANON: 'CLOSED_4401' },
    operation: () => ({ query: 'subscription ($q: [String!]) { taskQueueChanged(queues: $q) { name ready running } }', variables: { q: [workflow.tasks[0].queue] } }),
    check: (role, data) => expect(data.taskQueueChanged.ready).toBe(role === 'OTHER' ? 0 : 1),
  },
  // Hears of the owner's running task cancelled under its worker id; another member hears nothing.
  'Subscription.taskCancelled': {
    expect: { ADMIN: 'data', OWNER: 'data', OTHER: 'silent', VIEWER: 'data', ANON: 'CLOSED_4401' },
    async operation(role) {
      const { workflow: running, queue } = await ownersWorkflow('started');
      const workerId = `matrix-${role}-${randomBytes(4).toString('hex')}`;
      await server.gqlOk('mutation ($q: String!, $w: String!) { claimTask(queue: $q, workerId: $w) { id } }', { q: queue, w: workerId }, tokens.OWNER);
      cancelOnSubscribe = () => server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: running.id }, tokens.OWNER);
      return { query: 'subscription ($w: String!) { taskCancelled(workerId: $w) { taskId attempt reason } }', variables: { w: workerId } };
    },
    check: (_role, data) => expect(data.taskCancelled.attempt).toBe(1),
  },
  'Subscription.metricSampled': {
    expect: { ...signedIn('data'), ANON: 'CLOSED_4401' },
    operation: () => ({ query: 'subscription { metricSampled(names: ["iso_live"]) { name value } }' }),
  },
};

/** What a role gets over HTTP, as one outcome, with the raw response for leak checks. */
async function overHttp(role: Role, operation: Operation, field: string): Promise<{ outcome: Outcome; data: any; raw: string }> {
  let token = role === 'ANON' ? undefined : tokens[role];
  // Signing out revokes the session it is sent with: each role signs out a session of its own.
  if (field === 'Mutation.signOut' && role !== 'ANON') token = await server.login(emails[role], 'password-123');
  const result: GraphQLResult = await server.gql(operation.query, operation.variables, token);
  const raw = JSON.stringify(result);
  if (result.errors?.length) return { outcome: result.errors[0].extensions?.code as Outcome, data: result.data, raw };
  const value = Object.values(result.data ?? {})[0];
  return { outcome: value === null && !field.startsWith('Mutation.claimTask') ? 'null' : 'data', data: result.data, raw };
}

/** Subscription.taskCancelled's trigger: cancels the workflow its operation made for the role. */
let cancelOnSubscribe: () => Promise<unknown> = async () => undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a role gets over WebSocket: the first value, an error code, or the socket's close code. */
async function overSocket(role: Role, operation: Operation, field: string): Promise<{ outcome: Outcome; data: any; raw: string }> {
  const client = connect(server.url, { token: role === 'ANON' ? undefined : tokens[role] });
  clients.push(client);
  const subscription = client.subscribe(operation.query, operation.variables);
  if (field === 'Subscription.metricSampled' && role !== 'ANON') {
    // Live once a pushed sample arrives.
    void waitFor('a sample', async () => {
      await server.gql('mutation { recordMetrics(samples: [{ name: "iso_live", service: "svc", value: 1 }]) }', {}, tokens.ADMIN);
      return subscription.values.length > 0 || subscription.completed;
    }, 10_000, 50).catch(() => undefined);
  }
  if (field === 'Subscription.taskCancelled' && role !== 'ANON') {
    // Cancelled once the subscription follows the events; a role that may not see it hears nothing.
    await sleep(300);
    await cancelOnSubscribe();
    const heard = await waitFor(`${field} for ${role}`, async () => subscription.values.length > 0 || subscription.completed, 3_000, 20).then(() => true, () => false);
    if (!heard) {
      subscription.stop();
      return { outcome: 'silent', data: null, raw: JSON.stringify({ values: subscription.values, errors: subscription.errors }) };
    }
  }
  await waitFor(`${field} for ${role}`, async () => subscription.values.length > 0 || subscription.completed || client.closed.length > 0, 10_000, 20);
  subscription.stop();
  const raw = JSON.stringify({ values: subscription.values, errors: subscription.errors });
  if (client.closed[0]?.code === 4401) return { outcome: 'CLOSED_4401', data: null, raw };
  if (subscription.errors.length) return { outcome: subscription.errors[0].extensions?.code as Outcome, data: null, raw };
  return { outcome: 'data', data: subscription.values[0], raw };
}

beforeAll(async () => {
  server = await startTestServer({ ALERT_EVAL_INTERVAL_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '0' });
  database = new pg.Pool({ connectionString: server.database.url, max: 1 });
  for (const [role, kind] of [['ADMIN', 'ADMIN'], ['OWNER', 'MEMBER'], ['OTHER', 'MEMBER'], ['VIEWER', 'VIEWER']] as const) {
    const user = await server.newUser(kind);
    tokens[role] = user.token;
    emails[role] = user.email;
  }
  await server.gqlOk('mutation ($n: String!) { createApiToken(name: $n) }', { n: SECRET }, tokens.OWNER);
  workflow = (await ownersWorkflow('started')).workflow;
  const rule = await server.gqlOk('mutation { createAlertRule(input: { name: "iso rule", metric: "iso_metric", comparator: ">", threshold: 0, severity: LOW }) { id } }', {}, tokens.ADMIN);
  alertRuleId = rule.createAlertRule.id;
  await server.gqlOk('mutation { recordMetrics(samples: [{ name: "iso_metric", service: "svc", value: 5 }]) }', {}, tokens.ADMIN);
  alertId = await waitFor('an alert', async () => (await server.gqlOk('{ alerts(first: 1) { edges { node { id } } } }', {}, tokens.ADMIN)).alerts.edges[0]?.node.id);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await database?.end();
  await server?.stop();
});

describe('isolation matrix', () => {
  it('should have an entry for every root field of the schema, and none for fields that are gone', async () => {
    const schema = await buildAppSchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
      type ? Object.keys(type.getFields()).map((name) => `${type.name}.${name}`) : [],
    );
    expect(fields.filter((field) => !(field in MATRIX)), 'root fields with no isolation entry').toEqual([]);
    expect(Object.keys(MATRIX).filter((field) => !fields.includes(field)), 'entries for fields the schema no longer has').toEqual([]);
  });

  for (const [field, entry] of Object.entries(MATRIX)) {
    it(`${field}: ${ROLES.map((role) => `${role} ${[entry.expect[role]].flat().join('|')}`).join(', ')}`, async () => {
      for (const role of ROLES) {
        const operation = await entry.operation(role);
        const [root, name] = field.split('.');
        const auditedBefore = root === 'Mutation' ? await audited(name) : 0;
        const { outcome, data, raw } = field.startsWith('Subscription.') ? await overSocket(role, operation, field) : await overHttp(role, operation, field);
        expect([entry.expect[role]].flat(), `${field} as ${role}: ${raw.slice(0, 300)}`).toContain(outcome);
        if (root === 'Mutation') {
          // Every mutation is audited, in its transaction: one entry when it changed something, none when refused.
          const wrote = outcome === 'data' && !UNAUDITED.has(name) ? 1 : 0;
          expect((await audited(name)) - auditedBefore, `audit entries of ${field} as ${role} (${outcome})`).toBe(wrote);
        }
        if (outcome === 'data') entry.check?.(role, data);
        // Nothing of the owner's workflow reaches another member or an anonymous caller: not in data, counts or messages.
        if (role === 'OTHER' || role === 'ANON') {
          expect(raw, `${field} as ${role} leaks the owner's workflow`).not.toContain(SECRET);
          expect(raw, `${field} as ${role} leaks the owner`).not.toContain(emails.OWNER);
        }
      }
    });
  }
});
