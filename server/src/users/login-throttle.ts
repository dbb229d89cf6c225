/**
 * Brute-force protection for `login`: at most `LOGIN_ATTEMPTS_PER_15_MIN` failed attempts per
 * account and per client IP in a 15-minute window, counted in the shared rate limiter (so
 * across replicas with Redis). Successful and refused attempts are taken back: only
 * failures count.
 */
import { createHash } from 'node:crypto';
import type { Context } from '../app/context.js';
import { rateLimited } from '../core/errors.js';

const WINDOW_SECONDS = 15 * 60;

/**
 * Counts an attempt before the password is checked (so parallel guesses cannot slip past the
 * limit), refusing with RATE_LIMITED once the account or the IP has used its failures up.
 * Call the returned function when the attempt succeeded.
 */
export async function countLoginAttempt(ctx: Context, email: string): Promise<() => Promise<void>> {
  const { limiter, config } = ctx.app;
  const account = createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
  // Where the transport does not tell the address, only the account's budget applies.
  const keys = [`login:account:${account}`, ...(ctx.clientIp === 'unknown' ? [] : [`login:ip:${ctx.clientIp}`])];
  const hits = await Promise.all(keys.map((key) => limiter.hit(key, WINDOW_SECONDS)));
  const takeBack = () => Promise.all(keys.map((key) => limiter.undo(key))).then(() => undefined);
  const blocked = hits.filter((hit) => hit.count > config.loginAttemptsPer15Min);
  if (blocked.length) {
    await takeBack();
    throw rateLimited(Math.max(...blocked.map((hit) => hit.resetSeconds)));
  }
  return takeBack;
}
