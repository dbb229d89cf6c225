/**
 * The `wf` command line end to end: the bin npm links (node_modules/.bin/wf), spawned against
 * the real server, with its config file in a folder of its own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startedWorkflow } from '../support/workflows.js';

const WF = fileURLToPath(new URL('../../../node_modules/.bin/wf', import.meta.url));

let server: TestServer;
let member: { email: string; token: string };
let home: string;
const config = () => path.join(home, 'workflow-factory', 'config.json');

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER');
  home = mkdtempSync(path.join(tmpdir(), 'wf-cli-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The environment of a user with nothing set but their config folder. */
function environment(extra: Record<string, string> = {}) {
  const { WF_URL: _url, WF_TOKEN: _token, WF_CONFIG: _config, WF_PASSWORD: _password, ...env } = process.env;
  return { ...env, XDG_CONFIG_HOME: home, ...extra };
}

interface Ran { code: number | null; stdout: string; stderr: string }

function wf(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(WF, args, { env: environment(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(options.input ?? '');
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running wf (tail, worker): its output so far, and a way to wait for a line. */
function wfRunning(args: string[]) {
  const child = spawn(WF, args, { env: environment() }) as ChildProcessWithoutNullStreams;
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output, exited, lines: () => output.stdout.split('\n').filter(Boolean) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tasksOf = async (workflowId: string) =>
  (await server.gqlOk('query ($id: ID!) { workflow(id: $id) { status tasks { name status output error errorType attempts } } }', { id: workflowId }, member.token)).workflow;

describe('wf', () => {
  it('should say how to use it, exiting 2, for no command, an unknown one, a bad option, or before login', async () => {
    expect(await wf([])).toMatchObject({ code: 2, stdout: expect.stringContaining('Usage: wf <command>') });
    expect(await wf(['help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('worker --queue Q') });
    expect(await wf(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command: frobnicate') });
    expect(await wf(['workflows', '--colour'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--colour'") });
    expect(await wf(['workflows'])).toMatchObject({ code: 2, stderr: expect.stringContaining('not logged in: run `wf login') });
    expect(await wf(['login', '--url', server.url])).toMatchObject({ code: 2, stderr: expect.stringContaining('login needs --token TOKEN') });
    expect(await wf(['login', '--url', 'ftp://example', '--token', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--url must be http:// or https://') });
  });

  it('login should refuse a token the server does not know, saving nothing', async () => {
    const ran = await wf(['login', '--url', server.url, '--token', 'wrong']);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('UNAUTHENTICATED');
    expect(() => statSync(config())).toThrow();
  });

  it('login should check a token and save it with the URL, readable by its owner only', async () => {
    const ran = await wf(['login', '--url', server.url, '--token', member.token]);
    expect(ran).toMatchObject({ code: 0, stdout: expect.stringContaining(`Logged in to ${server.url}/graphql as ${member.email} (MEMBER)`) });
    expect(statSync(config()).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(config())).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(config(), 'utf8'))).toEqual({ url: `${server.url}/graphql`, token: member.token });
  });

  it('login with an e-mail should sign in and save a new API token of its own', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'wf-cli-'));
    try {
      const env = { XDG_CONFIG_HOME: other, WF_PASSWORD: 'password-123' };
      expect(await wf(['login', '--url', server.url, '--email', member.email, '--password', 'not-it'], { env })).toMatchObject({ code: 1, stderr: expect.stringContaining('Invalid email or password') });
      expect(await wf(['login', '--url', server.url, '--email', member.email], { env })).toMatchObject({ code: 0 });
      const saved = JSON.parse(readFileSync(path.join(other, 'workflow-factory', 'config.json'), 'utf8'));
      expect(saved.token).not.toBe(member.token);
      const tokens = await server.gqlOk('{ apiTokens { name } }', {}, saved.token);
      expect(tokens.apiTokens).toEqual([expect.objectContaining({ name: expect.stringMatching(/^wf on /) })]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('run should create and start a workflow from a JSON file, and explain a bad file or input', async () => {
    const file = path.join(home, 'nightly.json');
    writeFileSync(file, JSON.stringify({ name: 'nightly from the cli', tasks: [{ name: 'extract', queue: 'cli-run' }, { name: 'load', queue: 'cli-run', dependsOn: ['extract'] }] }));
    const ran = await wf(['run', file, '--json']);
    expect(ran.code).toBe(0);
    const workflow = JSON.parse(ran.stdout);
    expect(workflow).toMatchObject({ name: 'nightly from the cli', status: 'PENDING', tasks: [{ name: 'extract', status: 'READY' }, { name: 'load', status: 'PENDING' }] });
    expect((await tasksOf(workflow.id)).status).toBe('PENDING');

    const fromStdin = await wf(['run', '-'], { input: JSON.stringify({ name: 'piped', tasks: [{ name: 'only', queue: 'cli-run' }] }) });
    expect(fromStdin).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\S+ {2}PENDING {2}piped \(1 tasks\)\n$/) });

    expect(await wf(['run'])).toMatchObject({ code: 2, stderr: expect.stringContaining('run needs a FILE.json') });
    expect(await wf(['run', path.join(home, 'missing.json')])).toMatchObject({ code: 2, stderr: expect.stringContaining('no such file') });
    writeFileSync(file, '{ "name": ');
    expect(await wf(['run', file])).toMatchObject({ code: 2, stderr: expect.stringContaining('is not JSON') });
    writeFileSync(file, '[]');
    expect(await wf(['run', file])).toMatchObject({ code: 2, stderr: expect.stringContaining('must hold one JSON object') });
    writeFileSync(file, JSON.stringify({ name: 'cyclic', tasks: [{ name: 'a', dependsOn: ['a'] }] }));
    expect(await wf(['run', file])).toMatchObject({ code: 1, stderr: expect.stringMatching(/\(BAD_USER_INPUT, field tasks/) });
  });

  it('workflows should list what the user may see, as text or JSON, and refuse an unknown status', async () => {
    await startedWorkflow(server, member.token, [{ name: 'listed-task', queue: 'cli-list' }], 'listed by the cli');
    const text = await wf(['workflows', '--search', 'listed by the cli']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/PENDING +0\/1 done +\S+ {2}listed by the cli\n/);
    const json = await wf(['workflows', '--json', '--status', 'pending,running', '--first', '100']);
    expect(JSON.parse(json.stdout).map((w: { name: string }) => w.name)).toContain('listed by the cli');
    expect(await wf(['workflows', '--status', 'SLEEPING'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--status must be one of DRAFT, PENDING') });
    expect(await wf(['workflows', '--first', '0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--first must be a whole number from 1 to 100') });
  });

  it('tail should print events as they happen, and with --after resume after a cursor', async () => {
    const tail = wfRunning(['tail', '--json']);
    try {
      await expect.poll(() => tail.output.stderr, { timeout: 10_000 }).toContain('listening on');
      await sleep(300);
      const workflow = await startedWorkflow(server, member.token, [{ name: 'tailed', queue: 'cli-tail' }], 'tailed by the cli');
      await expect.poll(() => tail.lines().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      const events = tail.lines().map((line) => JSON.parse(line));
      expect(events[0]).toMatchObject({ kind: 'CREATED', workflowId: workflow.id, workflow: { name: 'tailed by the cli' } });
      expect(events.map((e) => e.kind)).toContain('TASK_UPDATED');
      tail.child.kill('SIGTERM');
      await tail.exited;

      const resumed = wfRunning(['tail', '--after', events[0].cursor]);
      try {
        await expect.poll(() => resumed.lines().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(events.length - 1);
        expect(resumed.lines()[0]).toBe(`${events[1].cursor}  ${events[1].kind}  "tailed by the cli" ${events[1].workflow.status}${events[1].task ? ` / ${events[1].task.name} ${events[1].task.status} (attempt ${events[1].task.attempts})` : ''}`);
        expect(resumed.output.stdout).not.toContain(events[0].cursor);
      } finally {
        resumed.child.kill('SIGTERM');
      }
    } finally {
      tail.child.kill('SIGTERM');
    }
    const bad = await wf(['tail', '--after', 'not-a-cursor']);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('BAD_USER_INPUT') });
  });

  it('worker should run the command per task with the task in its environment: exit 0 completes (stdout JSON as output), non-zero fails', async () => {
    const script = [
      'if [ "$WF_TASK_NAME" = broken ]; then echo "no such table: orders" >&2; exit 3; fi',
      'if [ "$WF_TASK_NAME" = chatty ]; then echo "just text"; exit 0; fi',
      'read -r stdin',
      'printf \'{"id":"%s","attempt":%s,"queue":"%s","workflow":"%s","input":%s,"stdin":%s}\' "$WF_TASK_ID" "$WF_TASK_ATTEMPT" "$WF_TASK_QUEUE" "$WF_WORKFLOW_ID" "$WF_TASK_INPUT" "$stdin"',
    ].join('\n');
    const worker = wfRunning(['worker', '--queue', 'cli-worker', '--concurrency', '2', '--', script]);
    try {
      await expect.poll(() => worker.output.stderr, { timeout: 10_000 }).toContain('waiting for tasks of cli-worker');
      const workflow = await startedWorkflow(server, member.token, [
        { name: 'first', queue: 'cli-worker' },
        { name: 'second', queue: 'cli-worker', dependsOn: ['first'] },
        { name: 'chatty', queue: 'cli-worker' },
        // last, so its failure (which ends the workflow) cannot cancel the others
        { name: 'broken', queue: 'cli-worker', dependsOn: ['second', 'chatty'] },
      ], 'worked by the cli');
      await expect.poll(async () => (await tasksOf(workflow.id)).status, { timeout: 15_000 }).toBe('FAILED');
      await expect.poll(async () => (await tasksOf(workflow.id)).tasks.map((t: { status: string }) => t.status), { timeout: 15_000 }).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
      const [first, second, chatty, broken] = (await tasksOf(workflow.id)).tasks;
      const ids = (await server.gqlOk('query ($id: ID!) { workflow(id: $id) { tasks { id } } }', { id: workflow.id }, member.token)).workflow.tasks;
      expect(first.output).toEqual({ id: ids[0].id, attempt: 1, queue: 'cli-worker', workflow: workflow.id, input: {}, stdin: {} });
      expect(second.output).toMatchObject({ input: { first: first.output }, stdin: { first: first.output } });
      expect(chatty.output).toBeNull();
      expect(worker.output.stdout).toContain('just text');
      expect(broken).toMatchObject({ error: 'exit code 3: no such table: orders', errorType: 'ExitCode3' });
      expect(worker.output.stderr).toContain('broken: attempt 1 failed: exit code 3');
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output.stderr).toContain('SIGTERM: finishing 0 task(s)');
  });

  it('worker should explain bad usage', async () => {
    expect(await wf(['worker', '--queue', 'q'])).toMatchObject({ code: 2, stderr: expect.stringContaining('worker needs the command after --') });
    expect(await wf(['worker', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringContaining('worker needs --queue QUEUE') });
    expect(await wf(['worker', '--queue', 'q', '--'])).toMatchObject({ code: 2, stderr: expect.stringContaining('worker needs a command after --') });
    expect(await wf(['worker', '--queue', 'q', '--concurrency', 'lots', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--concurrency must be a whole number') });
  });
});
