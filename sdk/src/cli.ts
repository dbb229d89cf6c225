#!/usr/bin/env node
/**
 * wf: the Workflow Factory command line. Exit codes: 0 done, 1 the server or a task refused,
 * 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { configPath, loadConnection, saveConnection } from './config.js';
import {
  CliCreateApiTokenDocument,
  CliCreateWorkflowDocument,
  CliLoginDocument,
  CliStartWorkflowDocument,
  CliViewerDocument,
  CliWorkflowEventsDocument,
  CliWorkflowsDocument,
  type CliWorkflowEventsSubscription,
  type WorkflowStatus,
} from './generated/graphql.js';
import { shellHandler } from './shell.js';
import { request, subscribe, webSocketClient, WorkflowFactoryError, type Connection } from './transport.js';
import { createWorker } from './worker.js';

const USAGE = `Usage: wf <command> [options]

Commands:
  login [--url URL] (--token TOKEN | --email EMAIL [--password PASSWORD])
                     check the credentials and save them (${configPath()}, mode 0600);
                     with an e-mail, signs in and saves a new API token; WF_PASSWORD works too
  workflows [--status STATUS]... [--search TEXT] [--first N] [--json]
                     list workflows, newest first
  run FILE.json [--json]
                     create a workflow from FILE.json (CreateWorkflowInput: name, description,
                     tasks) and start it; "-" reads standard input
  tail [--after CURSOR] [--workflow ID] [--json]
                     print workflow events as they happen; with --after, those since CURSOR
                     first; resumes after the last event when the connection drops
  worker --queue Q [--queue Q]... [--concurrency N] [--grace SECONDS] -- COMMAND...
                     run COMMAND in a shell per task of the queues; it gets WF_TASK_ID,
                     WF_TASK_NAME, WF_TASK_ATTEMPT, WF_TASK_QUEUE, WF_WORKFLOW_ID,
                     WF_WORKFLOW_NAME and WF_TASK_INPUT (JSON, also on stdin); exit code 0
                     completes the task (stdout as its output when that is JSON), any other
                     fails it (errorType ExitCode<N>)

WF_URL and WF_TOKEN override the saved login; WF_CONFIG names another config file.`;

class UsageError extends Error {}

const STATUSES: readonly WorkflowStatus[] = ['DRAFT', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(args: string[], options: T, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[\w+\]: /, ''));
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
  return parsed;
}

function connected(): Connection {
  const connection = loadConnection();
  if (!connection) throw new UsageError('not logged in: run `wf login --url URL --token TOKEN` first (or set WF_URL and WF_TOKEN)');
  return connection;
}

/** The GraphQL endpoint for what the user typed: a bare host gets /graphql. */
function endpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url must be a URL like http://localhost:4000/graphql, not ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, not ${url}`);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/graphql';
  return parsed.toString();
}

function wholeNumber(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return number;
}

const print = (line: string): void => void process.stdout.write(`${line}\n`);
const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function login(args: string[]) {
  const { values } = parse(args, { url: { type: 'string' }, token: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } });
  const url = endpoint(values.url ?? loadConnection()?.url ?? process.env.WF_URL ?? 'http://localhost:4000/graphql');
  let token = values.token;
  if (token && values.email) throw new UsageError('give --token or --email, not both');
  if (!token) {
    if (!values.email) throw new UsageError('login needs --token TOKEN, or --email EMAIL with --password (or WF_PASSWORD)');
    const password = values.password ?? process.env.WF_PASSWORD;
    if (!password) throw new UsageError('--email needs --password PASSWORD (or WF_PASSWORD)');
    const session = (await request({ url, token: '' }, CliLoginDocument, { email: values.email, password })).login.token;
    // A session expires; the saved credential is an API token of its own, revocable on its own.
    token = (await request({ url, token: session }, CliCreateApiTokenDocument, { name: `wf on ${hostname()}` })).createApiToken;
  }
  const { viewer } = await request({ url, token }, CliViewerDocument, {});
  if (!viewer) throw new WorkflowFactoryError('the server does not know this token', 'UNAUTHENTICATED');
  const file = saveConnection({ url, token });
  print(`Logged in to ${url} as ${viewer.email} (${viewer.role}); saved to ${file}`);
}

async function workflows(args: string[]) {
  const { values } = parse(args, { status: { type: 'string', multiple: true }, search: { type: 'string' }, first: { type: 'string' }, json: { type: 'boolean' } });
  const status = (values.status ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase());
  const unknown = status.find((s) => !STATUSES.includes(s as WorkflowStatus));
  if (unknown) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, not ${unknown}`);
  const first = wholeNumber(values.first, '--first', 1, 100) ?? 20;
  const data = await request(connected(), CliWorkflowsDocument, { first, status: status.length ? (status as WorkflowStatus[]) : null, search: values.search ?? null });
  const rows = data.workflows.edges.map((edge) => edge.node);
  if (values.json) return print(JSON.stringify(rows));
  if (!rows.length) return say('No workflows.');
  for (const w of rows) {
    const counts = w.taskCounts;
    print([w.id, w.status.padEnd(9), `${counts.succeeded}/${counts.total} done${counts.failed ? `, ${counts.failed} failed` : ''}${counts.running ? `, ${counts.running} running` : ''}`.padEnd(24), w.createdAt, w.name].join('  '));
  }
  if (data.workflows.totalCount > rows.length) say(`… ${data.workflows.totalCount - rows.length} more (--first up to 100, --status, --search)`);
}

async function run(args: string[]) {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1);
  const file = positionals[0];
  if (!file) throw new UsageError('run needs a FILE.json (a CreateWorkflowInput: {"name": …, "tasks": [{"name": …}]})');
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new UsageError(`${file} must hold one JSON object (name, description, tasks)`);
  const connection = connected();
  const { createWorkflow } = await request(connection, CliCreateWorkflowDocument, { input: input as never });
  const { startWorkflow } = await request(connection, CliStartWorkflowDocument, { id: createWorkflow.id });
  if (values.json) return print(JSON.stringify(startWorkflow));
  print(`${startWorkflow.id}  ${startWorkflow.status}  ${startWorkflow.name} (${startWorkflow.tasks.length} tasks)`);
}

type WorkflowEvent = CliWorkflowEventsSubscription['workflowEvents'];

function describeEvent(event: WorkflowEvent): string {
  const what = event.workflow ? `"${event.workflow.name}" ${event.workflow.status}` : `workflow ${event.workflowId}`;
  if (!event.task) return `${event.cursor}  ${event.kind}  ${what}`;
  const task = event.task;
  return `${event.cursor}  ${event.kind}  ${what} / ${task.name} ${task.status} (attempt ${task.attempts})${task.error ? `: ${task.error}` : ''}`;
}

async function tail(args: string[]) {
  const { values } = parse(args, { after: { type: 'string' }, workflow: { type: 'string' }, json: { type: 'boolean' } });
  const connection = connected();
  let after = values.after ?? null;
  // Resumes itself (graphql-ws would resubscribe with the first cursor and repeat events).
  for (let failures = 0; ; ) {
    const error = await new Promise<unknown>((resolve) => {
      const client = webSocketClient(connection, { retryAttempts: 0, on: { connected: () => ((failures = 0), say(`listening on ${connection.url}${after ? ` after ${after}` : ''}`)) } });
      subscribe(client, CliWorkflowEventsDocument, { after, workflowId: values.workflow ?? null }, {
        next: ({ workflowEvents }) => {
          after = workflowEvents.cursor;
          print(values.json ? JSON.stringify(workflowEvents) : describeEvent(workflowEvents));
        },
        error: (e) => (void client.dispose(), resolve(e)),
        complete: () => (void client.dispose(), resolve(null)),
      });
    });
    if (error instanceof WorkflowFactoryError && !error.transient && error.code !== 'NETWORK') throw error;
    const waitMs = Math.min(30_000, 500 * 2 ** failures++);
    say(`connection lost (${(error as Error)?.message ?? 'closed'}); resuming in ${Math.round(waitMs / 100) / 10} s`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

async function worker(args: string[]) {
  const split = args.indexOf('--');
  if (split < 0) throw new UsageError('worker needs the command after --, e.g. wf worker --queue default -- ./handle-task.sh');
  const command = args.slice(split + 1);
  if (!command.length) throw new UsageError('worker needs a command after --');
  const { values } = parse(args.slice(0, split), { queue: { type: 'string', multiple: true }, concurrency: { type: 'string' }, grace: { type: 'string' } });
  const queues = values.queue ?? [];
  if (!queues.length) throw new UsageError('worker needs --queue QUEUE (once per queue)');
  const concurrency = wholeNumber(values.concurrency, '--concurrency', 1, 1000) ?? 1;
  const graceSeconds = wholeNumber(values.grace, '--grace', 0, 86_400) ?? 30;
  const shellCommand = command.length === 1 ? command[0] : command.map(quote).join(' ');
  const w = createWorker({
    ...connected(),
    queues,
    concurrency,
    graceMs: graceSeconds * 1000,
    handleSignals: false,
    handler: shellHandler(shellCommand),
    on: {
      connected: () => say(`worker ${w.workerId}: waiting for tasks of ${queues.join(', ')}`),
      disconnected: () => say('connection lost; reconnecting (looking for work over HTTP meanwhile)'),
      claimed: (task) => say(`${task.id} ${task.name}: attempt ${task.attempt} started`),
      completed: (task) => say(`${task.id} ${task.name}: attempt ${task.attempt} succeeded`),
      failed: (task, error) => say(`${task.id} ${task.name}: attempt ${task.attempt} failed: ${error.message}`),
      aborted: (task, reason) => say(`${task.id} ${task.name}: attempt ${task.attempt} stopped: ${reason.message}`),
      error: (error) => say(`warning: ${(error as Error).message ?? error}`),
    },
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      say(`${signal}: finishing ${w.held} task(s) within ${graceSeconds} s, claiming nothing new`);
      void w.stop();
    });
  }
  await w.start();
  await w.done;
}

/** One argument for sh, as typed. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { login, workflows, run, tail, worker };

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    print(USAGE);
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(`unknown command: ${name}`);
    await command(args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      say(`wf ${command ? `${name}: ` : ''}${error.message}\nRun \`wf help\` for the commands and their options.`);
      return 2;
    }
    if (error instanceof WorkflowFactoryError) {
      say(`wf ${name}: ${error.message} (${error.code}${error.field ? `, field ${error.field}` : ''})`);
      return 1;
    }
    say(`wf ${name}: ${(error as Error)?.message ?? error}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
