/**
 * Who is asking, and what roles allow. The token lookup itself lives in `users/`; this file
 * only holds the rules every domain checks against.
 */
import { registerEnumType } from 'type-graphql';
import { forbidden, unauthenticated } from './errors.js';

export enum Role {
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
  VIEWER = 'VIEWER',
}
registerEnumType(Role, {
  name: 'Role',
  description: 'ADMIN sees and changes all; MEMBER sees and changes only its own workflows; VIEWER reads all and changes nothing',
});

export interface Viewer {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** the session or API token the request came with, so it can be revoked */
  credentialId: string;
  credentialKind: 'session' | 'api-token';
  /** the API token's name (null for a session), as the audit log names the credential */
  credentialName: string | null;
}

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

export function requireRole(viewer: Viewer | null, ...roles: Role[]): Viewer {
  const known = requireViewer(viewer);
  if (!roles.includes(known.role)) throw forbidden();
  return known;
}

/** Who may change things: ADMIN and MEMBER (a MEMBER only what it owns); a VIEWER only reads. */
export function requireWriter(viewer: Viewer | null): Viewer {
  return requireRole(viewer, Role.ADMIN, Role.MEMBER);
}

/**
 * Whether the viewer may change an object owned by `ownerId`: an ADMIN any, anyone else only
 * its own. Services answer NOT_FOUND when not, as if the object did not exist; `requireWriter`
 * has already turned VIEWERs away.
 */
export function mayChange(viewer: Viewer, ownerId: string): boolean {
  return viewer.role === Role.ADMIN || ownerId === viewer.id;
}

/**
 * Who sees the same data as a viewer: viewers of one audience get the same answers to the same
 * operation. Shared answers (the response cache, multiplexed subscriptions) are keyed by it, so
 * a field whose answer depends on more than this about the viewer must change it. Domains give
 * their rules (workflows/visibility.ts); app/context.ts composes them.
 */
export type AudienceOf = (viewer: Viewer) => string;

/** Bearer token from an `Authorization` header value, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}
