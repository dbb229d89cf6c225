/**
 * The limit server: a bare Node `http` server and a `pg` pool answering the dashboard query
 * with one hand-written SQL statement that builds the whole JSON response. No GraphQL, no
 * auth, no ORM — the ceiling the real server is measured against.
 *
 * Run: DATABASE_URL=… PORT=… node --import @swc-node/register/esm-register bench/limit-server.ts
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { LIMIT_SQL } from './dashboard-query.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10), idleTimeoutMillis: 0 });

const server = createServer((req, res) => {
  if (req.url === '/api/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
    return;
  }
  // The body is drained (like a real server must) before the answer goes out.
  req.resume();
  req.on('end', () => {
    pool.query(LIMIT_SQL).then(
      ({ rows }) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(rows[0].body),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
  });
});

server.listen(Number(process.env.PORT ?? 4100), '127.0.0.1', () => {
  const address = server.address();
  console.log(`limit server on ${typeof address === 'object' && address ? address.port : address}`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
