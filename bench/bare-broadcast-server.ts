/**
 * The bare broadcast of bench/fanout.ts: a plain `ws` WebSocketServer (no protocol, no auth).
 * `POST /broadcast` sends its request body, as one text message, to every connected socket in a
 * simple `socket.send` loop, then answers 204. `GET /api/health` answers 200 so bench/processes.ts
 * knows it is up. Listens on 127.0.0.1:PORT.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

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
const sockets = new WebSocketServer({ server });
server.listen(Number(process.env.PORT), '127.0.0.1');
