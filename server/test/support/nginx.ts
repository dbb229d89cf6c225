/**
 * Debian's nginx running the repository's own deploy/nginx.conf in front of test replicas, on
 * a free port, with everything it writes in a temporary folder (nothing under /etc/nginx or
 * /var). The config is templated only where compose and a test must differ:
 *   - `server server:4000 resolve …;` (Docker's DNS name of the replicas) becomes one
 *     `server 127.0.0.1:PORT …;` line per replica, keeping the parameters after `resolve`
 *     (max_fails, fail_timeout);
 *   - `listen 80;` becomes `listen 127.0.0.1:PORT;`;
 *   - the temp folders nginx was built with (/var/lib/nginx/…) are set inside the folder, and
 *     its pid file too (`-g`, with `daemon off;`).
 * The access log stays /dev/stdout, as in compose: nginx's stdout is a file `requests()` reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export const NGINX = '/usr/sbin/nginx';
export const NGINX_CONF = new URL('../../../deploy/nginx.conf', import.meta.url);

/**
 * Whether the nginx tests can run. Missing binary: with `REQUIRE_NGINX=1` (CI) this throws,
 * failing the file; otherwise one line says what was skipped.
 */
export function nginxInstalled(): boolean {
  if (existsSync(NGINX)) return true;
  if (process.env.REQUIRE_NGINX === '1') throw new Error(`REQUIRE_NGINX=1 but ${NGINX} is missing (apt-get install nginx-light)`);
  console.warn(`${NGINX} missing: skipped the nginx tests (apt-get install nginx-light); set REQUIRE_NGINX=1 to fail instead`);
  return false;
}

/** One line of the access log (the `upstreams` format of deploy/nginx.conf). */
export interface ProxiedRequest {
  request: string;
  status: number;
  /** every replica tried, in order ("127.0.0.1:1234") */
  upstreams: string[];
  /** what each of them answered ("502", "200"; "-" when none) */
  upstreamStatuses: string[];
}

export interface Nginx {
  url: string;
  /** the configuration it runs, as templated */
  config: string;
  /** the access log so far, parsed */
  requests(): ProxiedRequest[];
  /** everything nginx wrote to stderr (its error log) */
  errors(): string;
  stop(): Promise<void>;
}

/** The repository's config for these replica addresses ("127.0.0.1:PORT"), nginx listening on `port`, writing in `dir`. */
export function templateConfig(source: string, replicas: string[], port: number, dir: string): string {
  const upstream = /^(\s*)server server:4000 resolve( [^;]*)?;$/m;
  const match = source.match(upstream);
  if (!match) throw new Error('deploy/nginx.conf has no "server server:4000 resolve …;" line to template');
  if (!/^\s*listen 80;$/m.test(source)) throw new Error('deploy/nginx.conf has no "listen 80;" line to template');
  const [, indent, parameters = ''] = match;
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(dir, kind)};`).join('\n');
  return source
    .replace(upstream, replicas.map((address) => `${indent}server ${address}${parameters};`).join('\n'))
    .replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^http \{$/m, `http {\n${temp}`);
}

function parseAccessLine(line: string): ProxiedRequest | null {
  const match = line.match(/"([^"]*)" (\d{3}) \d+ upstream=(.*) upstream_status=(.*) rt=/);
  if (!match) return null;
  // "a, b : c": ", " separates tries, " : " internal redirects; "-": none.
  const tries = (text: string) => text.split(/,\s+|\s+:\s+/).filter((t) => t !== '-');
  return { request: match[1], status: Number(match[2]), upstreams: tries(match[3]), upstreamStatuses: tries(match[4]) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startNginx(replicas: string[]): Promise<Nginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-nginx-'));
  // As root nginx's workers run as `nobody`: they write request bodies in the temp folders.
  await chmod(dir, 0o777);
  const source = await readFile(NGINX_CONF, 'utf8');
  const confPath = path.join(dir, 'nginx.conf');

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = templateConfig(source, replicas, port, dir);
    await writeFile(confPath, config);
    // nginx opens /dev/stdout itself, which a pipe (a socket) refuses: its stdout is a file.
    const accessLog = path.join(dir, 'access.log');
    const stdout = openSync(accessLog, 'w');
    const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', confPath, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`], { stdio: ['ignore', stdout, 'pipe'] });
    closeSync(stdout);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    };
    try {
      await waitFor('nginx to listen', async () => child.exitCode !== null || (await accepts(port)), 10_000, 20);
      if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
    } catch (error) {
      await stop();
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      continue;
    }
    return {
      url,
      config,
      requests: () => readFileSync(accessLog, 'utf8').split('\n').map(parseAccessLine).filter((r): r is ProxiedRequest => r !== null),
      errors: () => stderr,
      async stop() {
        await stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
