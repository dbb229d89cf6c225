/**
 * The server on the other supported Node lines (22 and 24 LTS; the machine's own runs the whole
 * suite): the fast tier and the tests that depend most on the runtime — the compiled start,
 * the embedded PostgreSQL start, HTTP parsing and hostile requests, the WebSocket and SSE
 * transports, leases and the worker SDK — each under `npx -y node@N`, so spawned servers run
 * on that Node too. CI runs it after `npm test`; NODE_LINES="22 24" chooses the lines.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const LINES = (process.env.NODE_LINES ?? '22 24').split(/\s+/).filter(Boolean);
const FILES = [
  'test/app/compiled-start.test.ts',
  'test/db/embedded-start.test.ts',
  'test/http/graphql-http.test.ts',
  'test/http/http-security.test.ts',
  'test/live/workflow-events.test.ts',
  'test/workflows/leases.test.ts',
  'test/sdk/worker.test.ts',
];

for (const line of LINES) {
  const version = spawnSync('npx', ['-y', `node@${line}`, '--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    console.error(`node@${line} is not available: ${version.stderr}`);
    process.exit(1);
  }
  console.log(`\n# Node ${version.stdout.trim()}: the fast tier, then ${FILES.length} integration files`);
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  for (const args of [['--project', 'unit'], FILES]) {
    const run = spawnSync('npx', ['-y', `node@${line}`, vitest, 'run', ...args], { cwd: path.join(ROOT, 'server'), stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}
