/**
 * The bare broadcast of bench/fanout.ts: a plain `ws` WebSocketServer speaking only as much of
 * graphql-ws's protocol (`graphql-transport-ws`) as the same graphql-ws clients need: the
 * subprotocol is accepted, `connection_init` is answered with `connection_ack` (no auth), `ping`
 * with `pong`, and `subscribe` is accepted silently (nothing is executed). `POST /broadcast` sends
 * its request body, as one text message, to every connected socket in a simple `socket.send`
 * loop, then answers 204: the parent posts a `next` message with the id every client gives its
 * one subscription, so every client takes it as its subscription's event. `GET /api/health`
 * answers 200 so bench/processes.ts knows it is up. Listens on 127.0.0.1:PORT.
 *
 * BENCH_BARE_SEND picks the loop: `send` (default) is `ws`'s `socket.send(buffer)`, the
 * library's cheapest public way (the message encoded once; ws frames it per socket); `frame`
 * builds the WebSocket frame once (ws's own `Sender.frame`) and writes that one buffer to
 * every socket's TCP stream, below ws's per-message work: the floor for sending these bytes.
 */
import { createServer } from 'node:http';
import { handleProtocols, MessageType } from 'graphql-ws';
import type { Socket } from 'node:net';
import * as ws from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';

/** ws's framing, exported by the package but not in its types */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] } };

const ACK = JSON.stringify({ type: MessageType.ConnectionAck });
const PONG = JSON.stringify({ type: MessageType.Pong });

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/broadcast') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const bytes = Buffer.concat(chunks);
      if (process.env.BENCH_BARE_SEND === 'frame') {
        const frame = Buffer.concat(Sender.frame(bytes, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
        for (const socket of sockets.clients) (socket as WebSocket & { _socket: Socket })._socket.write(frame);
      } else {
        for (const socket of sockets.clients) socket.send(bytes, { binary: false });
      }
      response.writeHead(204).end();
    });
  } else if (request.url === '/api/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
  } else {
    response.writeHead(404).end();
  }
});
const sockets = new WebSocketServer({ server, handleProtocols, perMessageDeflate: false });
sockets.on('connection', (socket) => {
  socket.on('message', (data) => {
    const { type } = JSON.parse(String(data)) as { type: string };
    if (type === MessageType.ConnectionInit) socket.send(ACK);
    else if (type === MessageType.Ping) socket.send(PONG);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
