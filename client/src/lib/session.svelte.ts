/**
 * Who is signed in. The session itself is the server's HttpOnly `wf_session` cookie, set by
 * POST /api/session and cleared by DELETE /api/session; this module only mirrors the user.
 */
import { client, errorCodes, errorMessage } from './graphql/client';
import { ViewerDocument, type ViewerQuery } from './graphql/generated/graphql';

export const session = $state({
  user: null as ViewerQuery['viewer'],
  checked: false,
  /** set when the server could not say who is signed in */
  error: '',
});

export async function loadViewer(): Promise<void> {
  const result = await client.query(ViewerDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  const unauthenticated = errorCodes(result.error).includes('UNAUTHENTICATED');
  session.error = result.error && !unauthenticated ? errorMessage(result.error) : '';
  session.user = result.data?.viewer ?? null;
  session.checked = true;
}

/** Returns null when signed in, else the reason to show. */
export async function signIn(email: string, password: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
  } catch {
    return 'The server cannot be reached. Check that it is running, then try again.';
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    return body?.error?.message ?? `Sign-in failed (HTTP ${response.status}).`;
  }
  await loadViewer();
  return session.user ? null : session.error || 'Signed in, but the server did not accept the session. Are cookies allowed?';
}

export async function signOut(): Promise<void> {
  await fetch('/api/session', { method: 'DELETE' }).catch(() => undefined);
  // A full load drops every cached query and the live connection of the old session.
  window.location.assign('/login');
}

/** Whether the signed-in user may create (ADMIN, MEMBER). */
export const mayWrite = (): boolean => session.user?.role === 'ADMIN' || session.user?.role === 'MEMBER';

/** Whether the signed-in user may change what `ownerId` owns (ADMIN any, a MEMBER its own). */
export const mayChange = (ownerId: string): boolean =>
  session.user?.role === 'ADMIN' || (session.user?.role === 'MEMBER' && session.user.id === ownerId);
