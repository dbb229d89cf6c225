/**
 * The first build of a fresh clone (no client/.svelte-kit yet) prints no warnings: `vite build`
 * alone read tsconfig.json before SvelteKit had generated the file it extends.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const REPOSITORY = fileURLToPath(new URL('../../..', import.meta.url));
let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** `from`'s entries except `skip`, hard-linked into `to` (a clone without copying node_modules). */
async function linkTree(from: string, to: string, skip: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  const entries = (await readdir(from)).filter((name) => !skip.includes(name)).map((name) => path.join(from, name));
  if (entries.length) execFileSync('cp', ['-al', ...entries, to]);
}

it('should build the dashboard of a fresh clone without warnings', async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'wf-first-build-'));
  const clone = path.join(scratch, 'workflow-factory');
  await linkTree(REPOSITORY, clone, ['.git', 'client']);
  await linkTree(path.join(REPOSITORY, 'client'), path.join(clone, 'client'), ['.svelte-kit', 'build', 'node_modules']);
  const build = spawnSync('npm', ['run', 'build', '-w', 'client'], { cwd: clone, encoding: 'utf8', timeout: 240_000 });
  const output = `${build.stdout}${build.stderr}`;
  expect(build.status, output).toBe(0);
  expect(output.split('\n').filter((line) => /warn/i.test(line))).toEqual([]);
}, 250_000);
