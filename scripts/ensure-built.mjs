/**
 * Builds a workspace unless its build was made from exactly these sources: `npm start` runs it
 * for the worker SDK (sdk/dist, which the server imports), the dashboard (client/build) and the
 * server (server/dist); `npm ci` (the SDK's prepare) and `npm test` for the SDK; the browser
 * tests for the dashboard. So a fresh clone builds once and a current build costs only a hash
 * of the sources (milliseconds). A build that succeeds leaves the hash as a stamp in its output.
 *
 *   node scripts/ensure-built.mjs [sdk] [client] [server]   (all, in this order, when none is named)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** What each build is made from (relative to the workspace), where it goes, and the file that shows it is there. */
const BUILDS = {
  sdk: {
    label: 'the worker SDK',
    inputs: ['src', 'tsconfig.json', '../tsconfig.json', 'package.json', '../package-lock.json'],
    output: 'dist',
    entry: 'index.js',
  },
  client: {
    label: 'the dashboard',
    inputs: ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'tsconfig.json', 'package.json', '../package-lock.json'],
    output: 'build',
    entry: 'handler.js',
  },
  server: {
    label: 'the server',
    inputs: ['src', '../migrations', 'tsconfig.build.json', '../tsconfig.json', 'package.json', '../package-lock.json'],
    output: 'dist',
    entry: 'server/src/main.js',
  },
};

function files(base, relative) {
  const full = path.join(base, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).sort().flatMap((name) => files(base, path.join(relative, name)));
}

function sourceHash(base, inputs) {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap((input) => files(base, input))) hash.update(`${file}\0`).update(readFileSync(path.join(base, file))).update('\0');
  return hash.digest('hex');
}

function ensureBuilt(name) {
  const { label, inputs, output, entry } = BUILDS[name];
  const base = path.join(ROOT, name);
  const stamp = path.join(base, output, '.source-hash');
  const wanted = sourceHash(base, inputs);
  const built = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : null;
  if (built === wanted && existsSync(path.join(base, output, entry))) return;
  console.log(built ? `Sources of ${label} changed: rebuilding ${name}/${output}…` : `Building ${label} into ${name}/${output} (first run)…`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: base, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) {
    console.error(`Building ${label} failed; run \`npm run build -w ${name}\` to see why.`);
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, `${wanted}\n`);
}

const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(BUILDS)) {
  if (!BUILDS[name]) {
    console.error(`unknown build ${name}: one of ${Object.keys(BUILDS).join(', ')}`);
    process.exit(64);
  }
  ensureBuilt(name);
}
