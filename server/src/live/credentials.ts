/**
 * A WebSocket outlives the credential it opened with. A revocation (sign-out,
 * `revokeApiToken`) is announced on the bus and closes the sockets signed in with it at once,
 * on every replica (`revoked`); and every `intervalMs` each open socket's token is checked
 * again, which catches expiry and any announcement that was lost. Either way the socket is
 * closed with 4403. While the database cannot answer, sockets stay open: an outage is not a
 * revocation.
 */
import type { Viewer } from '../core/viewer.js';
import type { Logger } from '../core/logger.js';
import type { RevokedCredential } from './bus/bus.js';

export const CREDENTIAL_GONE_CLOSE_CODE = 4403;

/** How the watch names a credential (a revocation's, or a viewer's). */
export const credentialKey = (credential: RevokedCredential) => `${credential.kind}:${credential.id}`;

export interface CredentialWatch {
  /**
   * `credential` names what the token is (`RevokedCredential` as `kind:id`), to find its sockets
   * when it is revoked; returns what stops watching `socket` (called when it closes).
   */
  watch(socket: WatchedSocket, token: string, credential: string): () => void;
  /** Closes every socket signed in with this credential now. */
  revoked(credential: string): void;
  stop(): void;
}

/** What the watch needs of a socket. */
export interface WatchedSocket {
  close(code: number, reason: string): void;
}

export function watchCredentials(options: {
  intervalMs: number;
  authenticate(token: string): Promise<Viewer | null>;
  logger: Logger;
}): CredentialWatch {
  // Sockets by token: a token shared by many sockets (one dashboard, many tabs) is checked once.
  const watched = new Map<string, Set<WatchedSocket>>();
  const tokens = new Map<string, string>();
  const closeAll = (token: string): void => {
    const sockets = watched.get(token);
    watched.delete(token);
    for (const socket of sockets ?? []) socket.close(CREDENTIAL_GONE_CLOSE_CODE, 'Credential revoked or expired');
  };
  let checking = false;
  const recheck = async () => {
    if (checking) return;
    checking = true;
    try {
      for (const [token, sockets] of watched) {
        const viewer = await options.authenticate(token).catch((error) => {
          options.logger.warn({ err: error }, 'could not re-check a WebSocket credential');
          return undefined;
        });
        if (viewer === null && watched.get(token) === sockets) closeAll(token);
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void recheck(), options.intervalMs);
  timer.unref();
  return {
    watch(socket, token, credential) {
      const sockets = watched.get(token) ?? new Set();
      watched.set(token, sockets.add(socket));
      tokens.set(credential, token);
      return () => {
        sockets.delete(socket);
        if (sockets.size || watched.get(token) !== sockets) return;
        watched.delete(token);
        tokens.delete(credential);
      };
    },
    revoked(credential) {
      const token = tokens.get(credential);
      tokens.delete(credential);
      if (token) closeAll(token);
    },
    stop() {
      clearInterval(timer);
      watched.clear();
      tokens.clear();
    },
  };
}
