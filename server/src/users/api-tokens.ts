/**
 * API tokens: created for the signed-in user (the secret is shown once, only its hash is
 * stored), listed without secrets, optionally expiring, and revoked by their owner.
 */
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { codePoints } from '../core/text.js';
import { mutate } from '../live/mutate.js';
import type { ApiTokenInfo } from './entity.js';
import { hashToken, newToken } from './passwords.js';
import * as rows from './rows.js';

/** Tokens a user holds at once (not revoked): `apiTokens` lists them unpaged. */
export const MAX_API_TOKENS = 100;
const MAX_LIFETIME_MS = 10 * 365 * 24 * 3_600_000;

export async function createApiToken(ctx: Context, name: string, expiresAt?: Date | null): Promise<string> {
  const viewer = requireViewer(ctx.viewer);
  if (!name.trim() || codePoints(name) > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
  if (expiresAt && (expiresAt.getTime() <= Date.now() || expiresAt.getTime() > Date.now() + MAX_LIFETIME_MS)) {
    throw badInput('expiresAt must be in the future and within 10 years', { field: 'expiresAt' });
  }
  return mutate(ctx, async (tx) => {
    if ((await rows.liveApiTokenCount(tx, viewer.id)) >= MAX_API_TOKENS) throw conflict(`At most ${MAX_API_TOKENS} API tokens; revoke one first`);
    const token = newToken('api-token');
    await rows.insertApiToken(tx, { userId: viewer.id, name: name.trim(), tokenHash: hashToken(token), expiresAt: expiresAt ?? null });
    return token;
  });
}

/** The viewer's tokens that have not been revoked, newest first (expired ones included). */
export async function listApiTokens(ctx: Context): Promise<ApiTokenInfo[]> {
  const viewer = requireViewer(ctx.viewer);
  return rows.liveApiTokens(ctx.em, viewer.id, MAX_API_TOKENS);
}

/** Revokes one of the viewer's own tokens; anyone else's is NOT_FOUND, as if it did not exist. */
export async function revokeApiToken(ctx: Context, id: string): Promise<void> {
  const viewer = requireViewer(ctx.viewer);
  await mutate(ctx, async (tx) => {
    if (!(await rows.revokeApiTokenOf(tx, viewer.id, id))) throw notFound('API token');
  });
  ctx.app.bus.publish('credential', { kind: 'api-token', id });
}
