/**
 * The bare broadcast of bench/fanout.ts: a plain `ws` WebSocketServer speaking only as much of
 * graphql-ws's protocol (`graphql-transport-ws`) as the same graphql-ws clients need: the
 * subprotocol is accepted, `connection_init` is answered with `connection_ack` (no auth), `ping`
 * with `pong`, and `subscribe` is accepted silently (nothing is executed). `POST /broadcast` sends
 * its request body, as one text message, to every connected socket in a simple `socket.send`
 * loop, then answers 204: the parent posts a `next` message with the id every client gives its
 * one subscription, so every client takes it as its subscription's event. `GET /api/health`
 * answers 200 so bench/processes.ts knows it is up. Listens on 127.0.0.1:PORT.
 */
import { createServer } from 'node:http';
import { handleProtocols, MessageType } from 'graphql-ws';
import { WebSocketServer } from 'ws';

const ACK = JSON.stringify({ type: MessageType.ConnectionAck });
const PONG = JSON.stringify({ type: MessageType.Pong });

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/broadcast') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const bytes = Buffer.concat(chunks);
      for (const socket of sockets.clients) socket.send(bytes, { binary: false });
      response.writeHead(204).end();
    });
  } else if (request.url === '/api/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
  } else {
    response.writeHead(404).end();
  }
});
const sockets = new WebSocketServer({ server, handleProtocols });
sockets.on('connection', (socket) => {
  socket.on('message', (data) => {
    const { type } = JSON.parse(String(data)) as { type: string };
    if (type === MessageType.ConnectionInit) socket.send(ACK);
    else if (type === MessageType.Ping) socket.send(PONG);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
