/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by package,
 * so RESULTS.md can say where a request's time goes.
 * Run: node --import @swc-node/register/esm-register bench/profile-summary.ts <file.cpuprofile> [top] [skip seconds: start-up]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
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

export function summarise(profile: Profile, top = 25, skipSeconds = 0): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipSeconds * 1e6) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, micros] of selfTime) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/server\/src\//, 'src/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const lines = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  return [`total ${(total / 1e6).toFixed(1)} s sampled`, '', 'by package (self time):', ...lines(byPackage), '', 'by function (self time):', ...lines(byFunction)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(summarise(JSON.parse(readFileSync(process.argv[2], 'utf8')) as Profile, Number(process.argv[3] ?? 25), Number(process.argv[4] ?? 0)));
}
