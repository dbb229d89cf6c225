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

/** ADMIN and VIEWER read every workflow; a MEMBER only its own. */
export function seesAllWorkflows(viewer: Viewer): boolean {
  return viewer.role !== Role.MEMBER;
}

/** The owner whose workflows the viewer is limited to, or null for all. */
export function workflowScope(viewer: Viewer): string | null {
  return seesAllWorkflows(viewer) ? null : viewer.id;
}

/**
 * Who sees the same data as `viewer`: everyone who reads all workflows with the same role, or
 * one member alone. Shared answers (response cache, multiplexed subscriptions) are keyed by it,
 * so a field whose answer depends on more than this about the viewer must change it.
 */
export function audienceOf(viewer: Viewer): string {
  return seesAllWorkflows(viewer) ? `role:${viewer.role}` : `owner:${viewer.id}`;
}

/** Bearer token from an `Authorization` header value, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}
