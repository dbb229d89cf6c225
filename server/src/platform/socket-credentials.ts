/**
 * A WebSocket outlives the credential it opened with: every `intervalMs` each open socket's
 * token is checked again, and a socket whose session or API token was revoked (sign-out,
 * `revokeApiToken`) or has expired is closed with 4403. While the database cannot answer,
 * sockets stay open: an outage is not a revocation.
 */
import type { WebSocket } from 'ws';
import type { Viewer } from './auth.js';
import type { Logger } from './logger.js';

export const CREDENTIAL_GONE_CLOSE_CODE = 4403;

export interface CredentialWatch {
  watch(socket: WebSocket, token: string): void;
  stop(): void;
}

export function watchCredentials(options: {
  intervalMs: number;
  authenticate(token: string): Promise<Viewer | null>;
  logger: Logger;
}): CredentialWatch {
  // Sockets by token: a token shared by many sockets (one dashboard, many tabs) is checked once.
  const watched = new Map<string, Set<WebSocket>>();
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
        if (viewer !== null) continue;
        watched.delete(token);
        for (const socket of sockets) socket.close(CREDENTIAL_GONE_CLOSE_CODE, 'Credential revoked or expired');
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void recheck(), options.intervalMs);
  timer.unref();
  return {
    watch(socket, token) {
      const sockets = watched.get(token) ?? new Set();
      watched.set(token, sockets.add(socket));
      socket.once('close', () => {
        sockets.delete(socket);
        if (!sockets.size && watched.get(token) === sockets) watched.delete(token);
      });
    },
    stop() {
      clearInterval(timer);
      watched.clear();
    },
  };
}
