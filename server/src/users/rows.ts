/** Data access for users, sessions and API tokens (ARCHITECTURE.md, "Data access"): their SQL and row mappers. */
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, indexBy, toDate, uuidArray } from '../db/sql.js';
import { ApiTokenInfo, User, type Role } from './entity.js';

/** A user as the API shows it: never its password hash. */
export function userFromRow(row: Record<string, any>): User {
  return asInstance<User, 'passwordHash'>(User, { id: row.id, email: row.email, name: row.name, role: row.role as Role, createdAt: toDate(row.created_at) });
}

function apiTokenFromRow(row: Record<string, any>): ApiTokenInfo {
  return asInstance(ApiTokenInfo, { id: row.id, name: row.name, createdAt: toDate(row.created_at), expiresAt: toDate(row.expires_at), lastUsedAt: toDate(row.last_used_at) });
}

const USER_COLUMNS = 'id, email, name, role, created_at';
const tableOf = (kind: Viewer['credentialKind']) => (kind === 'session' ? 'sessions' : 'api_tokens');

export async function usersByIds(db: Queryable, ids: readonly string[]): Promise<(User | null)[]> {
  const rows = await db.execute(`select ${USER_COLUMNS} from users where id = any(?::uuid[])`, [uuidArray(ids)]);
  return indexBy(ids, rows.map(userFromRow), (u) => u.id);
}

/** The user with this (normalized) e-mail address and its password hash, or null. */
export async function userWithPassword(db: Queryable, email: string): Promise<{ user: User; passwordHash: string } | null> {
  const [row] = await db.execute(`select ${USER_COLUMNS}, password_hash from users where email = ?`, [email]);
  return row ? { user: userFromRow(row), passwordHash: row.password_hash } : null;
}

export async function insertUser(db: Queryable, user: { email: string; name: string; role: Role; passwordHash: string }): Promise<User> {
  const [row] = await db.execute(`insert into users (email, name, role, password_hash) values (?, ?, ?, ?) returning ${USER_COLUMNS}`, [
    user.email, user.name, user.role, user.passwordHash,
  ]);
  return userFromRow(row);
}

/** Sets the role, and the password hash when given. */
export async function updateUser(db: Queryable, id: string, change: { role: Role; passwordHash?: string }): Promise<void> {
  if (change.passwordHash === undefined) await db.execute('update users set role = ? where id = ?', [change.role, id]);
  else await db.execute('update users set role = ?, password_hash = ? where id = ?', [change.role, change.passwordHash, id]);
}

export async function hasUserWithRole(db: Queryable, role: Role): Promise<boolean> {
  const [row] = await db.execute('select exists (select 1 from users where role = ?) as found', [role]);
  return row.found;
}

/** The signed-in user behind a live session or API token of this hash, with the credential, or null. */
export async function viewerOfToken(db: Queryable, tokenHash: string): Promise<Viewer | null> {
  const rows = await db.execute(
    `select u.id, u.email, u.name, u.role, c.id as credential_id, c.kind, c.name as credential_name from (
       select id, user_id, 'session' as kind, null as name from sessions
        where token_hash = ? and revoked_at is null and expires_at > now()
       union all
       select id, user_id, 'api-token' as kind, name from api_tokens
        where token_hash = ? and revoked_at is null and (expires_at is null or expires_at > now())
     ) c join users u on u.id = c.user_id`,
    [tokenHash, tokenHash],
  );
  const row = rows[0];
  if (!row) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role, credentialId: row.credential_id, credentialKind: row.kind, credentialName: row.credential_name };
}

export async function touchCredential(db: Queryable, kind: Viewer['credentialKind'], id: string): Promise<void> {
  await db.execute(`update ${tableOf(kind)} set last_used_at = now() where id = ?`, [id]);
}

export async function revokeCredential(db: Queryable, kind: Viewer['credentialKind'], id: string): Promise<void> {
  await db.execute(`update ${tableOf(kind)} set revoked_at = now() where id = ? and revoked_at is null`, [id]);
}

export async function revokeSessionsOf(db: Queryable, userId: string): Promise<void> {
  await db.execute('update sessions set revoked_at = now() where user_id = ? and revoked_at is null', [userId]);
}

export async function insertSession(db: Queryable, session: { userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await db.execute('insert into sessions (user_id, token_hash, created_at, expires_at) values (?, ?, ?, ?)', [session.userId, session.tokenHash, new Date(), session.expiresAt]);
}

export async function liveApiTokenCount(db: Queryable, userId: string): Promise<number> {
  const [{ held }] = await db.execute('select count(*)::int as held from api_tokens where user_id = ? and revoked_at is null', [userId]);
  return held;
}

export async function insertApiToken(db: Queryable, token: { userId: string; name: string; tokenHash: string; expiresAt: Date | null }): Promise<void> {
  await db.execute('insert into api_tokens (user_id, name, token_hash, created_at, expires_at) values (?, ?, ?, ?, ?)', [
    token.userId, token.name, token.tokenHash, new Date(), token.expiresAt,
  ]);
}

/** The user's tokens not revoked, newest first. */
export async function liveApiTokens(db: Queryable, userId: string, limit: number): Promise<ApiTokenInfo[]> {
  const rows = await db.execute(
    'select id, name, created_at, expires_at, last_used_at from api_tokens where user_id = ? and revoked_at is null order by created_at desc, id desc limit ?',
    [userId, limit],
  );
  return rows.map(apiTokenFromRow);
}

/** Revokes the user's own token; false when it has none of this id not revoked yet. */
export async function revokeApiTokenOf(db: Queryable, userId: string, id: string): Promise<boolean> {
  const rows = await db.execute('update api_tokens set revoked_at = now() where id = ? and user_id = ? and revoked_at is null returning id', [id, userId]);
  return rows.length > 0;
}
