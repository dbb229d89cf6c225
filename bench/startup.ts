/**
 * `npm run bench:startup`: the server compiled (`npm start`: server/dist, built first when
 * stale) vs from source (src/main.ts through swc, as `npm start` ran it before there was a
 * build), with the same node flags, on the seeded benchmark database (migrations already
 * applied). Runs alternate between the two. Per run and mode:
 * - start: ms from spawning the process to its first healthy `/api/health` (polled every 25 ms);
 * - RSS idle: BENCH_IDLE_SECONDS after healthy and signed in;
 * - RSS under load: the highest RSS sampled every 100 ms while the dashboard query runs
 *   (BENCH_CONNECTIONS connections, BENCH_SECONDS), and that load's req/s.
 * Then the production dependencies' size on disk (`npm ls --omit=dev --all --parseable`, each
 * package's files without its nested node_modules, so nothing counts twice): the image's
 * node_modules layer. BENCH_BASELINE_ROOT: another checkout (with node_modules) to size too.
 *
 * Settings: BENCH_RUNS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (10), BENCH_IDLE_SECONDS (10).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, median, rssKb, type Load } from './measure.js';
import { startRealServer } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const env = process.env;
const runs = Number(env.BENCH_RUNS ?? 3);
const seconds = Number(env.BENCH_SECONDS ?? 10);
const connections = Number(env.BENCH_CONNECTIONS ?? 10);
const idleSeconds = Number(env.BENCH_IDLE_SECONDS ?? 10);
const load: Load = { path: '/graphql', method: 'POST', body: DASHBOARD_BODY };
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  startMs: number;
  idleRssMb: number;
  loadRssMb: number;
  requestsPerSecond: number;
}

/** Bytes of a package's own files (its nested node_modules are packages of their own). */
function ownBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') total += ownBytes(full);
    } else total += lstatSync(full).size;
  }
  return total;
}

/** The production dependencies of `root`'s workspaces: how many packages, and their size (MB). */
function productionDependencies(root: string): { packages: number; megabytes: number } {
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const dirs = new Set(listed.stdout.split('\n').filter((line) => line.includes(`${path.sep}node_modules${path.sep}`)));
  let bytes = 0;
  for (const dir of dirs) {
    try {
      // Workspace links (the SDK) point at sources, not at installed packages.
      if (!lstatSync(dir).isSymbolicLink()) bytes += ownBytes(dir);
    } catch {
      // listed but not installed (an optional dependency of another platform)
    }
  }
  return { packages: dirs.size, megabytes: bytes / 1024 / 1024 };
}

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const results: Record<'compiled' | 'source', Run[]> = { compiled: [], source: [] };
console.log(`\n### Start-up and memory: compiled vs from source — ${new Date().toISOString()}\n\n${machine()}; ${runs} runs alternating, idle ${idleSeconds} s, dashboard query ${connections} connections ${seconds} s\n`);
console.log('| run | entry | start to healthy ms | RSS idle MB | RSS under load (peak) MB | req/s |\n| --- | --- | --- | --- | --- | --- |');
for (let run = 0; run < runs; run++) {
  for (const entry of run % 2 ? (['source', 'compiled'] as const) : (['compiled', 'source'] as const)) {
    const target = await startRealServer({ databaseUrl, name: `startup-${entry}`, entry });
    try {
      await sleep(idleSeconds * 1000);
      const idleRssMb = rssKb(target.pid) / 1024;
      let peakKb = 0;
      const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(target.pid))), 100);
      const figures = await measure(target, load, connections, seconds);
      clearInterval(sampler);
      const result = { startMs: target.startMs!, idleRssMb, loadRssMb: peakKb / 1024, requestsPerSecond: figures.requestsPerSecond };
      results[entry].push(result);
      console.log(`| ${run + 1} | ${entry} | ${fixed(result.startMs, 0)} | ${fixed(result.idleRssMb)} | ${fixed(result.loadRssMb)} | ${fixed(result.requestsPerSecond)} |`);
    } finally {
      await target.stop();
    }
  }
}
const summary = (pick: (r: Run) => number) => `${fixed(median(results.compiled.map(pick)), 1)} vs ${fixed(median(results.source.map(pick)), 1)}`;
console.log(`\nmedians, compiled vs source: start ${summary((r) => r.startMs)} ms, RSS idle ${summary((r) => r.idleRssMb)} MB, RSS under load ${summary((r) => r.loadRssMb)} MB, ${summary((r) => r.requestsPerSecond)} req/s`);
for (const root of [ROOT, ...(env.BENCH_BASELINE_ROOT ? [env.BENCH_BASELINE_ROOT] : [])]) {
  const { packages, megabytes } = productionDependencies(root);
  console.log(`production dependencies of ${root}: ${packages} packages, ${fixed(megabytes)} MB on disk`);
}
