/**
 * A WebSocket outlives the credential it opened with: every `intervalMs` each open socket's
 * token is checked again, and a socket whose session or API token was revoked (sign-out,
 * `revokeApiToken`) or has expired is closed with 4403. While the database cannot answer,
 * sockets stay open: an outage is not a revocation.
 */
import { WebSocket } from 'ws';
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
  const watched = new Map<WebSocket, string>();
  let checking = false;
  const recheck = async () => {
    if (checking) return;
    checking = true;
    try {
      for (const [socket, token] of watched) {
        if (socket.readyState !== WebSocket.OPEN) continue;
        const viewer = await options.authenticate(token).catch((error) => {
          options.logger.warn({ err: error }, 'could not re-check a WebSocket credential');
          return undefined;
        });
        if (viewer !== null) continue;
        watched.delete(socket);
        socket.close(CREDENTIAL_GONE_CLOSE_CODE, 'Credential revoked or expired');
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void recheck(), options.intervalMs);
  timer.unref();
  return {
    watch(socket, token) {
      watched.set(socket, token);
      socket.once('close', () => watched.delete(socket));
    },
    stop() {
      clearInterval(timer);
      watched.clear();
    },
  };
}
