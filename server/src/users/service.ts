/** Users, sign-in and tokens: the rules behind the users resolver and the bootstrap admin. */
import { randomBytes } from 'node:crypto';
import type { Context } from '../app/context.js';
import { Role, requireRole, requireViewer, type Viewer } from '../core/viewer.js';
import { isUniqueViolation, type EntityManager } from '../db/orm.js';
import type { Queryable } from '../db/read-routing.js';
import { badInput, conflict, unauthenticated } from '../core/errors.js';
import { codePoints } from '../core/text.js';
import { mutate } from '../live/mutate.js';
import type { User } from './entity.js';
import { countLoginAttempt } from './login-throttle.js';
import * as rows from './rows.js';
import { DECOY_HASH, hashPassword, hashToken, newToken, verifyPassword } from './passwords.js';

const EMAIL = /^[^@\s]{1,200}@[^@\s]{1,200}$/;
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const lastUsedWrites = new Map<string, number>();

/** The viewer a session or API token belongs to, or null when it is unknown, expired or revoked. */
export async function authenticate(em: EntityManager, token: string): Promise<Viewer | null> {
  if (token.length > 200) return null;
  const viewer = await rows.viewerOfToken(em, hashToken(token));
  if (viewer) recordLastUsed(em, viewer.credentialKind, viewer.credentialId);
  return viewer;
}

// Written at most once a minute per credential, off the request's path.
function recordLastUsed(em: EntityManager, kind: Viewer['credentialKind'], id: string): void {
  const now = Date.now();
  if ((lastUsedWrites.get(id) ?? 0) > now - LAST_USED_WRITE_INTERVAL_MS) return;
  lastUsedWrites.set(id, now);
  if (lastUsedWrites.size > 10_000) lastUsedWrites.clear();
  rows.touchCredential(em, kind, id).catch(() => lastUsedWrites.delete(id));
}

export async function login(ctx: Context, email: string, password: string): Promise<{ token: string; user: User }> {
  const succeeded = await countLoginAttempt(ctx, email);
  const found = await rows.userWithPassword(ctx.em, email.trim().toLowerCase());
  const valid = await verifyPassword(password, found?.passwordHash ?? DECOY_HASH);
  if (!found || !valid) throw unauthenticated('Invalid email or password');
  await succeeded();
  const token = newToken('session');
  return mutate(ctx, async (tx) => {
    const expiresAt = new Date(Date.now() + ctx.app.config.sessionTtlHours * 3_600_000);
    await rows.insertSession(tx, { userId: found.user.id, tokenHash: hashToken(token), expiresAt });
    return { token, user: found.user };
  });
}

export async function signOut(ctx: Context): Promise<boolean> {
  const viewer = requireViewer(ctx.viewer);
  await mutate(ctx, (tx) => rows.revokeCredential(tx, viewer.credentialKind, viewer.credentialId));
  ctx.app.bus.publish('credential', { kind: viewer.credentialKind, id: viewer.credentialId });
  return true;
}

export interface NewUser {
  email: string;
  name: string;
  password: string;
  role: Role;
}

function validateNewUser(input: NewUser): void {
  if (!EMAIL.test(input.email.trim())) throw badInput('email is not an e-mail address', { field: 'email' });
  if (!input.name.trim() || codePoints(input.name) > 200) throw badInput('name must be 1 to 200 characters', { field: 'name' });
  const passwordLength = codePoints(input.password);
  if (passwordLength < 8 || passwordLength > 200) {
    throw badInput('password must be 8 to 200 characters', { field: 'password' });
  }
}

export async function insertUser(db: Queryable, input: NewUser): Promise<User> {
  return rows.insertUser(db, { email: input.email.trim().toLowerCase(), name: input.name.trim(), role: input.role, passwordHash: await hashPassword(input.password) });
}

export async function createUser(ctx: Context, input: NewUser): Promise<User> {
  requireRole(ctx.viewer, Role.ADMIN);
  validateNewUser(input);
  try {
    return await mutate(ctx, (tx) => insertUser(tx, input));
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A user with email ${input.email} already exists`);
    throw error;
  }
}


export interface BootstrapResult {
  email: string;
  /** set only when the password was generated here and must be shown once */
  generatedPassword?: string;
  /**
   * What ADMIN_PASSWORD did: set on the account made now, matched it, was ignored because the
   * account's own password differs (changed since, say), or reset it (ADMIN_PASSWORD_RESET)
   */
  password?: 'created' | 'matches' | 'kept' | 'reset';
  /** an existing account that ADMIN_EMAIL made an admin */
  promoted?: boolean;
}

/**
 * Makes sure the admin from the settings exists. ADMIN_PASSWORD is the password of an account
 * made here; an existing account keeps its own unless `resetPassword` (ADMIN_PASSWORD_RESET),
 * which also signs its sessions out. With no admin settings and no admin at all, creates one
 * with a generated password.
 */
export async function ensureAdmin(em: EntityManager, email?: string, password?: string, resetPassword = false): Promise<BootstrapResult | null> {
  if (email && password) {
    const existing = await rows.userWithPassword(em, email);
    if (!existing) {
      try {
        await insertUser(em, { email, name: 'Administrator', password, role: Role.ADMIN });
        return { email, password: 'created' };
      } catch (error) {
        // Another replica starting at the same moment created it first: that one is it.
        if (!isUniqueViolation(error)) throw error;
        return ensureAdmin(em.fork(), email, password, resetPassword);
      }
    }
    const promoted = existing.user.role !== Role.ADMIN;
    let outcome: BootstrapResult['password'] = 'matches';
    let passwordHash: string | undefined;
    if (!(await verifyPassword(password, existing.passwordHash))) {
      outcome = resetPassword ? 'reset' : 'kept';
      if (resetPassword) passwordHash = await hashPassword(password);
    }
    if (promoted || passwordHash !== undefined) await rows.updateUser(em, existing.user.id, { role: Role.ADMIN, passwordHash });
    if (outcome === 'reset') await rows.revokeSessionsOf(em, existing.user.id);
    return { email, password: outcome, promoted };
  }
  if (await rows.hasUserWithRole(em, Role.ADMIN)) return null;
  const generatedPassword = randomBytes(12).toString('base64url');
  await insertUser(em, { email: 'admin@localhost', name: 'Administrator', password: generatedPassword, role: Role.ADMIN });
  return { email: 'admin@localhost', generatedPassword };
}
