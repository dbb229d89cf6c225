/**
 * WORKERS > 1: one port served by that many worker processes, each a replica of its own
 * (node:cluster); a signal stops them all and the supervisor exits 0; a worker that dies takes
 * the whole down with a non-zero exit, for the supervisor above it to restart.
 */
import { request } from 'node:http';
import { expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** Which worker answers a request on a new connection (`health.instance`). */
function instanceAnswering(url: string, token: string): Promise<string> {
  const body = JSON.stringify({ query: '{ health { instance } viewer { email } }' });
  return new Promise((resolve, reject) => {
    // agent: false, a connection of its own (fetch would reuse one, and so reach one worker).
    const req = request(`${url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        const answer = JSON.parse(text) as { data: { health: { instance: string }; viewer: { email: string } } };
        if (!answer.data?.viewer?.email) reject(new Error(text));
        else resolve(answer.data.health.instance);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const livePids = (pids: number[]) =>
  pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });

describeRedis('WORKERS', () => {
  it('should serve one port from each worker, sessions shared, and exit 0 on SIGTERM with every worker stopped', async () => {
    const replica = await startServerProcess({ WORKERS: '2', INSTANCE_ID: 'wf-workers', ...redisEnv() });
    try {
      // Connections are handed to the workers in turn: both answer, and a session made on one is known to the other.
      const seen = new Set<string>();
      await waitFor('both workers to answer', async () => {
        seen.add(await instanceAnswering(replica.url, replica.adminToken));
        return seen.size === 2;
      }, 30_000, 10);
      expect([...seen].sort()).toEqual(['wf-workers-0', 'wf-workers-1']);

      const metrics = await fetch(`${replica.url}/api/metrics`).then((r) => r.text());
      expect(metrics).toContain('process_cpu_seconds_total');
      const workerPids = await workerPidsOf(replica.child.pid!);
      expect(workerPids).toHaveLength(2);

      replica.child.kill('SIGTERM');
      expect((await replica.exited).code).toBe(0);
      expect(livePids(workerPids)).toEqual([]);
      expect(replica.output()).not.toMatch(/"level":(50|60)/);
    } finally {
      await replica.stop();
    }
  }, 90_000);

  it('should stop the other workers and exit non-zero when a worker dies', async () => {
    const replica = await startServerProcess({ WORKERS: '2', ...redisEnv() });
    try {
      await waitFor('both workers to run', async () => (await workerPidsOf(replica.child.pid!)).length === 2, 20_000);
      const [victim, other] = await workerPidsOf(replica.child.pid!);
      process.kill(victim, 'SIGKILL');
      const exited = await replica.exited;
      expect(exited.code).not.toBe(0);
      await waitFor('the other worker to stop', async () => livePids([other]).length === 0, 15_000);
      expect(replica.output()).toContain('a worker exited: stopping the others');
    } finally {
      await replica.stop();
    }
  }, 90_000);
});

/** The worker processes of a supervisor (its children, from /proc). */
async function workerPidsOf(parent: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}
