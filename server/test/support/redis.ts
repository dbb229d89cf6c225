/**
 * Redis for tests: a `describe` that runs only when Redis is usable (see redis-setup.ts), a
 * unique channel prefix per use, and a throwaway `redis-server` a test may kill and restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, inject } from 'vitest';
import { freePort } from './ports.js';

export const redisUrl = inject('redisUrl');

/** `describe` for tests that need Redis; skipped (and reported once) when it is missing. */
export const describeRedis = describe.skipIf(!redisUrl);

/** Settings for a server on the shared Redis, on channels nobody else uses. */
export function redisEnv(prefix = uniqueRedisPrefix()): Record<string, string> {
  return { REDIS_URL: redisUrl!, REDIS_PREFIX: prefix };
}

export function uniqueRedisPrefix(): string {
  return `wf-test-${randomBytes(5).toString('hex')}:`;
}

/** A private redis-server on its own port, to kill and bring back mid-test. */
export class ThrowawayRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number, private readonly args: string[]) {}

  /**
   * `args` are more redis-server options (`--replicaof …`, `--cluster-enabled yes`); a
   * sentinel's are its config file first, then `--sentinel`.
   */
  static async start(args: string[] = []): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort(), args);
    await redis.restart();
    return redis;
  }

  private get snapshotFile(): string {
    return `wf-test-redis-${this.port}.rdb`;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on the same port again; resolves once it accepts connections. */
  async restart(): Promise<void> {
    // A config file must come first; a sentinel says its id where a server says it is ready.
    const [file, rest] = this.args[0]?.endsWith('.conf') ? [[this.args[0]], this.args.slice(1)] : [[], this.args];
    // A replica writes the snapshot it syncs from its primary even with `--save ''`: into the temp
    // folder under its own name, not into the test's working directory.
    const snapshot = ['--dir', os.tmpdir(), '--dbfilename', this.snapshotFile];
    const options = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...snapshot];
    const child = spawn('redis-server', [...file, ...options, ...rest], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections') || output.includes('Sentinel ID is')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
    });
    child.stdout!.resume();
  }

  /** Kills it hard (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
    rmSync(path.join(os.tmpdir(), this.snapshotFile), { force: true });
  }
}
