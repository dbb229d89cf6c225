/**
 * API tokens: created for the signed-in user (the secret is shown once, only its hash is
 * stored), listed without secrets, optionally expiring, and revoked by their owner.
 */
import { Field, ObjectType } from 'type-graphql';
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { toDate } from '../db/sql.js';
import { codePoints } from '../core/text.js';
import { mutate } from '../live/mutate.js';
import { ApiToken } from './entity.js';
import { hashToken, newToken } from './passwords.js';

/** Tokens a user holds at once (not revoked): `apiTokens` lists them unpaged. */
export const MAX_API_TOKENS = 100;
const MAX_LIFETIME_MS = 10 * 365 * 24 * 3_600_000;

@ObjectType('ApiToken', { description: "One of the viewer's API tokens; the secret itself is never shown again" })
export class ApiTokenInfo {
  /** the database id; the resolver shows it as a global id */
  id!: string;
  @Field() name!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'null: it never expires' }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'recorded at most once a minute' }) lastUsedAt!: Date | null;
}

export async function createApiToken(ctx: Context, name: string, expiresAt?: Date | null): Promise<string> {
  const viewer = requireViewer(ctx.viewer);
  if (!name.trim() || codePoints(name) > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
  if (expiresAt && (expiresAt.getTime() <= Date.now() || expiresAt.getTime() > Date.now() + MAX_LIFETIME_MS)) {
    throw badInput('expiresAt must be in the future and within 10 years', { field: 'expiresAt' });
  }
  return mutate(ctx, async (tx) => {
    const [{ held }] = await tx.execute('select count(*)::int as held from api_tokens where user_id = ? and revoked_at is null', [viewer.id]);
    if (held >= MAX_API_TOKENS) throw conflict(`At most ${MAX_API_TOKENS} API tokens; revoke one first`);
    const token = newToken('api-token');
    await tx.persistAndFlush(tx.create(ApiToken, { userId: viewer.id, name: name.trim(), tokenHash: hashToken(token), expiresAt: expiresAt ?? undefined }));
    return token;
  });
}

/** The viewer's tokens that have not been revoked, newest first (expired ones included). */
export async function listApiTokens(ctx: Context): Promise<ApiTokenInfo[]> {
  const viewer = requireViewer(ctx.viewer);
  const rows = await ctx.em.execute(
    'select id, name, created_at, expires_at, last_used_at from api_tokens where user_id = ? and revoked_at is null order by created_at desc, id desc limit ?',
    [viewer.id, MAX_API_TOKENS],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    lastUsedAt: toDate(row.last_used_at),
  }));
}

/** Revokes one of the viewer's own tokens; anyone else's is NOT_FOUND, as if it did not exist. */
export async function revokeApiToken(ctx: Context, id: string): Promise<void> {
  const viewer = requireViewer(ctx.viewer);
  await mutate(ctx, async (tx) => {
    const rows = await tx.execute('update api_tokens set revoked_at = now() where id = ? and user_id = ? and revoked_at is null returning id', [id, viewer.id]);
    if (!rows.length) throw notFound('API token');
  });
  ctx.app.bus.publish('credential', { kind: 'api-token', id });
}
