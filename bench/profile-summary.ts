/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): busy time by phase of a request, and
 * self time by function and by package, so RESULTS.md can say where a request's time goes.
 * With the CPU time per request (ms, as bench:peers measures it from /proc), phases are also
 * given in ms per request.
 * Run: node --import @swc-node/register/esm-register bench/profile-summary.ts <file.cpuprofile> [top] [skip seconds: start-up] [CPU ms per request]
 * (PROFILE_PHASE=HTTP: the by-package and by-function lists cover that phase only, each function with its caller.)
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.includes('/server/src/')) return `app:${url.split('/server/src/')[1].split('/')[0]}`;
  if (url.startsWith('node:') || !url) return url || '(native/gc/idle)';
  return url.split('/').slice(-2).join('/');
}

/**
 * A request's phases, by the first frame from the leaf up that names one. Natives (url '', line
 * 0: socket writes, string decoding) take their JS caller's phase; graphql-jit's compiled code
 * has no url but a line.
 */
const PHASES: Array<[string, (frame: ProfileNode['callFrame']) => boolean]> = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['serialization (JSON.stringify of the answer)', (f) => f.functionName === 'prettyJSONStringify' || f.functionName === 'stringifyResult'],
  ['SQL: pg driver (protocol, row decoding)', (f) => /node_modules\/(pg|pg-protocol|pg-types|pg-pool)\//.test(f.url)],
  ['SQL: knex + MikroORM + pool', (f) => /node_modules\/(knex|@mikro-orm\/[^/]+|tarn)\//.test(f.url)],
  ['row mapping (loaders, rows to objects, dates)', (f) => /\/server\/src\/(\w+\/([\w-]+-)?loaders|db\/sql)\.[jt]s/.test(f.url)],
  ['DataLoader batching', (f) => f.url.includes('node_modules/dataloader/')],
  ['resolvers: type-graphql wrappers', (f) => f.url.includes('node_modules/type-graphql/')],
  ['resolvers: the app (ids, access, services)', (f) => /\/server\/src\/(\w+\/([\w-]+-)?(resolver|service|access)|core\/(ids|viewer)|db\/pagination)\.[jt]s/.test(f.url)],
  ['execution limits (graphql/execution-limits.ts guards)', (f) => /\/server\/src\/graphql\/execution-limits\.[jt]s/.test(f.url)],
  ['execution: query plans (graphql/planned.ts)', (f) => /\/server\/src\/graphql\/planned\.[jt]s/.test(f.url) || (f.functionName === 'make' && f.url === '')],
  ['execution: graphql-jit (compiled code, runtime)', (f) => f.url.includes('node_modules/graphql-jit/') || (f.url === '' && f.lineNumber > 0)],
  ['parse / validate / plan (graphql-js, limits, selection)', (f) => f.url.includes('node_modules/graphql/') || /graphql\/(query-limits|selection)\.[jt]s/.test(f.url)],
  ['Apollo request pipeline and plugins', (f) => f.url.includes('node_modules/@apollo/') || /\/server\/src\/(observability|http\/(graphql|rate-limit|response-cache)|graphql\/executor|db\/read-routing)/.test(f.url)],
  ['HTTP (node:http, sockets, body)', (f) => /^node:(_http|net|internal\/stream|internal\/streams|stream)/.test(f.url)],
  ['promises, async hooks, microtasks', (f) => /async_hooks|task_queues/.test(f.url) || f.functionName === 'runMicrotasks'],
  ['other app code', (f) => f.url.includes('/server/src/')],
  ['idle', (f) => f.functionName === '(idle)'],
];

export function summarise(profile: Profile, top = 25, skipSeconds = 0, cpuMsPerRequest?: number, phase?: string): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const phaseOf = (id: number): string => {
    // A socket write made by pg (a statement sent) is SQL, though its frames nearest the leaf are node:net's.
    for (let at: number | undefined = id, depth = 0; at !== undefined && depth < 12; at = parentOf.get(at), depth++) {
      if (byId.get(at)!.callFrame.url.includes('node_modules/pg/lib/connection.js')) return 'SQL: statements sent (pg socket writes)';
    }
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const phase = PHASES.find(([, matches]) => matches(byId.get(at)!.callFrame));
      if (phase) return phase[0];
    }
    return 'other (Node internals, libraries)';
  };
  const selfTime = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipSeconds * 1e6) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const nameOf = (frame: ProfileNode['callFrame']) =>
    `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/server\/src\//, 'src/')}:${frame.lineNumber + 1}`;
  for (const [id, micros] of selfTime) {
    const { url } = byId.get(id)!.callFrame;
    // With `phase` (part of a phase's name): only that phase's samples, each named with its caller.
    if (phase && !phaseOf(id).includes(phase)) continue;
    const parent = parentOf.get(id);
    const key = phase && parent !== undefined ? `${nameOf(byId.get(id)!.callFrame)} < ${nameOf(byId.get(parent)!.callFrame)}` : nameOf(byId.get(id)!.callFrame);
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const byPhase = new Map<string, number>();
  for (const [id, micros] of selfTime) byPhase.set(phaseOf(id), (byPhase.get(phaseOf(id)) ?? 0) + micros);
  const busy = total - (byPhase.get('idle') ?? 0);
  const phases = [...byPhase].filter(([phase]) => phase !== 'idle').sort((a, b) => b[1] - a[1]).map(([phase, micros]) =>
    `| ${phase} | ${((100 * micros) / busy).toFixed(1)} % |${cpuMsPerRequest ? ` ${((cpuMsPerRequest * micros) / busy).toFixed(1)} |` : ''}`);
  const lines = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  return [
    `total ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`, '',
    `| phase | share of busy time |${cpuMsPerRequest ? ' ms per request |' : ''}`, `| --- | --- |${cpuMsPerRequest ? ' --- |' : ''}`, ...phases, '',
    'by package (self time):', ...lines(byPackage), '', 'by function (self time):', ...lines(byFunction),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, skip, cpuMs] = process.argv.slice(2);
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 25), Number(skip ?? 0), cpuMs ? Number(cpuMs) : undefined, process.env.PROFILE_PHASE));
}
