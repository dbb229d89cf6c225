/**
 * GraphQL over WebSocket at `/graphql` on the same HTTP server as everything else: the `ws`
 * library and the HTTP upgrade, adapted to the graphql-transport-ws protocol (protocol.ts).
 *
 * The server loop is our own rather than graphql-ws's `useServer`, because that one executes
 * and serializes every event once per subscriber (protocol.ts and groups.ts share them).
 *
 * - Limits: messages up to `MAX_BODY_BYTES` (else 1009); the protocol's own in protocol.ts.
 * - Liveness: every socket is pinged every `WS_KEEPALIVE_MS` and cut off when the previous ping
 *   got no pong (a peer gone without closing would otherwise hold its subscriptions forever).
 * - Shutdown: `stop()` closes every socket with 1012 (Service Restart), which graphql-ws
 *   clients treat as "reconnect" — through the load balancer, to another replica.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import { cookie } from '../../http/replies.js';
import type { LiveConnections } from '../connections.js';
import type { RevokedCredential } from '../bus/bus.js';
import { createProtocol, type ProtocolLimits, type ProtocolOptions, type ProtocolSocket } from './protocol.js';
import type { RequestLimits } from '../../core/limits.js';

/** Sent to every open socket on shutdown: reconnect (elsewhere). */
export const SHUTDOWN_CLOSE_CODE = 1012;
const CLOSE_GRACE_MS = 1_500;

export interface SubscriptionServerOptions<C> extends ProtocolOptions<C> {
  server: Server;
  /** the protocol's limits, and the message size and keepalive of the sockets */
  limits: ProtocolLimits & Pick<RequestLimits, 'bodyBytes' | 'wsKeepaliveMs'>;
  /** counts open sockets (the `ws_connections` metric) */
  connections: LiveConnections;
  /** name of the session cookie accepted when no authorization is in connectionParams */
  sessionCookie: string;
}

export interface SubscriptionServer {
  /** Closes (4403) every socket signed in with a credential that was just revoked. */
  credentialRevoked(credential: RevokedCredential): void;
  /** Refuses new sockets, closes open ones with 1012 and waits (briefly) until they are gone. */
  stop(): Promise<void>;
}

const CLOSE_BRACE = 0x7d;

/**
 * `prefix`, `payload` and `}` as one final, unmasked, uncompressed text frame (RFC 6455 §5.2):
 * the bytes `ws` would send for their concatenation, in one allocation and one write, without
 * ws's per-message option objects, separate header buffer and two-chunk writev. Sound because
 * the server negotiates no extension (`perMessageDeflate: false`), so ws's sender, which is
 * only ever busy while compressing, writes whole frames straight to the socket as well.
 */
function textFrame(prefix: Buffer, payload: Buffer): Buffer {
  const length = prefix.length + payload.length + 1;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  prefix.copy(frame, header);
  payload.copy(frame, header + prefix.length);
  frame[header + length - 1] = CLOSE_BRACE;
  return frame;
}

/** ws keeps the TCP socket it writes to in `_socket` (not in its types). */
const tcpSocket = (socket: WebSocket) => (socket as WebSocket & { _socket: Duplex })._socket;

/** A `ws` socket as the protocol sees it. */
function protocolSocket(socket: WebSocket): ProtocolSocket {
  return {
    get open() {
      return socket.readyState === WebSocket.OPEN;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    send: (data) => socket.send(data),
    sendJoined: (prefix, payload) => tcpSocket(socket).write(textFrame(prefix, payload)),
    close: (code, reason) => socket.close(code, reason),
    terminate: () => socket.terminate(),
  };
}

/** An accepted socket, for the keepalive. */
interface Peer {
  socket: WebSocket;
  /** false from a ping until its pong */
  answered: boolean;
}

export function startSubscriptionServer<C>(options: SubscriptionServerOptions<C>): SubscriptionServer {
  const { logger } = options;
  let closing = false;
  // noServer: the upgrade listener is ours, so nothing thrown while upgrading escapes it.
  const wss = new WebSocketServer({
    noServer: true,
    path: '/graphql',
    maxPayload: options.limits.bodyBytes,
    // No extension: `next` frames are written straight to the socket (textFrame).
    perMessageDeflate: false,
    handleProtocols,
    // Draining: sockets still open on keep-alive connections must not upgrade any more.
    verifyClient: () => !closing,
  });
  const protocol = createProtocol(options);
  const peers = new Set<Peer>();

  const accept = (socket: WebSocket, request: IncomingMessage) => {
    socket.once('close', options.connections.opened());
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    const connection = protocol.opened(protocolSocket(socket), cookie(request, options.sessionCookie));
    const peer: Peer = { socket, answered: true };
    peers.add(peer);
    socket.on('pong', () => (peer.answered = true));
    socket.on('message', (data) => void connection.message(String(data)));
    socket.on('error', (error) => logger.warn({ err: error }, 'WebSocket error'));
    socket.once('close', () => {
      peers.delete(peer);
      connection.closed();
    });
  };
  // An upgrade runs outside any request handler: an exception here would end the process.
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      wss.handleUpgrade(request, socket, head, (webSocket) => {
        try {
          accept(webSocket, request);
        } catch (error) {
          logger.error({ err: error }, 'internal error opening a WebSocket');
          options.onInternalError?.(error, '');
          webSocket.close(CloseCode.InternalServerError, 'Internal server error');
        }
      });
    } catch (error) {
      logger.error({ err: error }, 'internal error in a WebSocket upgrade');
      options.onInternalError?.(error, '');
      socket.destroy();
    }
  };
  options.server.on('upgrade', upgrade);

  const keepAlive = setInterval(() => {
    for (const peer of peers) {
      if (!peer.answered) {
        peer.socket.terminate();
        continue;
      }
      peer.answered = false;
      peer.socket.ping();
    }
  }, options.limits.wsKeepaliveMs);
  keepAlive.unref();

  return {
    credentialRevoked: (credential) => protocol.credentialRevoked(credential),
    async stop() {
      closing = true;
      clearInterval(keepAlive);
      protocol.stop();
      const open = [...wss.clients];
      const gone = Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      for (const socket of open) socket.close(SHUTDOWN_CLOSE_CODE, 'Server restarting: reconnect');
      // A client that does not answer the close handshake is cut off.
      const cutOff = setTimeout(() => open.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await gone;
      clearTimeout(cutOff);
      options.server.off('upgrade', upgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
