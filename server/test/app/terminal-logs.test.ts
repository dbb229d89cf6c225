/**
 * What the server prints: in a terminal (a real pseudo-terminal from `script`), readable lines
 * with local times and no line per GraphQL operation; piped, one JSON object a line as before.
 * Both end with a `stopped` line after Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/ports.js';

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const COMMAND = [process.execPath, '--import', '@swc-node/register/esm-register', 'src/main.ts'];
const hasScript = spawnSync('script', ['--version']).status === 0;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** Starts the server, runs one GraphQL query, presses Ctrl-C (or sends SIGINT) and returns what it printed. */
async function run(inTerminal: boolean): Promise<{ code: number | null; lines: string[] }> {
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: database.url, PORT: String(port), DEMO: '0', REDIS_URL: '', LOG_FORMAT: '' };
  // `script` gives the server a terminal for stdout; the ^C written to it reaches the foreground job as SIGINT.
  // `exec`: the server is that job, not a shell waiting for it (a non-interactive shell killed by the
  // same SIGINT makes `script` answer 130 whatever the server did; which shell runs depends on $SHELL).
  const child = inTerminal
    ? spawn('script', ['-qfec', `exec ${COMMAND.join(' ')}`, '/dev/null'], { cwd: SERVER_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(COMMAND[0], COMMAND.slice(1), { cwd: SERVER_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${url}/api/health`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query Probe { health { status } }' }) });
  expect(response.status).toBe(200);
  if (inTerminal) child.stdin!.write('\x03');
  else child.kill('SIGINT');
  const code = await exited;
  // eslint-disable-next-line no-control-regex
  return { code, lines: output.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).filter(Boolean) };
}

describe('server output', () => {
  it(hasScript ? 'should print readable lines in a terminal, without a line per operation, and end with "stopped"' : 'in a terminal: skipped, `script` (util-linux) is not installed', async (context) => {
    if (!hasScript) return context.skip();
    const { code, lines } = await run(true);
    expect(code).toBe(0);
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Workflow Factory is serving \{.*"url":/));
    expect(lines.join('\n')).not.toContain('graphql operation');
    expect(lines.at(-1)).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stopped \{"signal":"SIGINT","shutdownMs":\d+\}$/);
  }, 60_000);

  it('should print one JSON object a line when not in a terminal, each operation included, and end with "stopped"', async () => {
    const { code, lines } = await run(false);
    expect(code).toBe(0);
    const records = lines.map((line) => JSON.parse(line) as { level: number; time: number; msg: string; operationName?: string });
    expect(records).toContainEqual(expect.objectContaining({ level: 30, msg: 'graphql operation', operationName: 'Probe' }));
    expect(records).toContainEqual(expect.objectContaining({ level: 30, msg: 'demo off: DEMO=0', demo: false }));
    expect(records.at(-1)).toMatchObject({ level: 30, msg: 'stopped', signal: 'SIGINT' });
    expect(typeof records[0].time).toBe('number');
  }, 60_000);

  it('should stop cleanly, with exit code 0, on a signal that arrives while it is still starting', async () => {
    const port = await freePort();
    const env = { ...process.env, DATABASE_URL: database.url, PORT: String(port), DEMO: '0', REDIS_URL: '', LOG_FORMAT: '' };
    const child = spawn(COMMAND[0], COMMAND.slice(1), { cwd: SERVER_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // The first line comes after the port is bound, before the signal handlers were installed at the end.
    await new Promise<void>((resolve) => child.stdout!.once('data', (chunk) => ((output += chunk), resolve())));
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const records = output.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string });
    expect(records.at(-1)).toMatchObject({ msg: 'stopped', signal: 'SIGINT' });
  }, 60_000);
});
