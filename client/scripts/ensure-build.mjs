/**
 * Builds the dashboard into client/build unless the build there was made from exactly these
 * sources: `npm start` and the browser tests call it, so a fresh clone builds once and a
 * current build costs only a hash of the sources (milliseconds).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'tsconfig.json', 'package.json', '../package-lock.json'];
const STAMP = path.join(CLIENT, 'build', '.source-hash');

function files(relative) {
  const full = path.join(CLIENT, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).sort().flatMap((name) => files(path.join(relative, name)));
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(files)) hash.update(`${file}\0`).update(readFileSync(path.join(CLIENT, file))).update('\0');
  return hash.digest('hex');
}

const wanted = sourceHash();
const built = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : null;
if (built === wanted && existsSync(path.join(CLIENT, 'build', 'handler.js'))) process.exit(0);

console.log(built ? 'Dashboard sources changed: rebuilding client/build…' : 'Building the dashboard into client/build (first run)…');
const result = spawnSync('npm', ['run', 'build'], { cwd: CLIENT, stdio: ['ignore', 'ignore', 'inherit'] });
if (result.status !== 0) {
  console.error('Building the dashboard failed; run `npm run build -w client` to see why.');
  process.exit(result.status ?? 1);
}
writeFileSync(STAMP, `${wanted}\n`);
