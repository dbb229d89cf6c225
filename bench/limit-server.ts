/**
 * The raw limits: a bare Node `http` server and a `pg` pool answering the dashboard query with
 * the same bytes as the real server, without GraphQL, auth or an ORM. Two ways, each measured
 * (bench/peers.ts takes the faster as the limit):
 *   LIMIT_JSON=postgres  one statement builds the whole JSON text (`PG_JSON_SQL`);
 *   LIMIT_JSON=node      one statement returns plain rows, Node builds the JSON (`dashboardJson`).
 *
 * Run: DATABASE_URL=… PORT=… LIMIT_JSON=node node --import @swc-node/register/esm-register bench/limit-server.ts
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { DASHBOARD_ROWS_SQL, dashboardJson, PG_JSON_SQL, type DashboardRow } from './dashboard-query.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10), idleTimeoutMillis: 0 });
const mode = process.env.LIMIT_JSON ?? 'node';
if (mode !== 'node' && mode !== 'postgres') throw new Error(`LIMIT_JSON must be node or postgres, not ${mode}`);

const answer = async (): Promise<string> =>
  mode === 'postgres'
    ? (await pool.query<{ body: string }>(PG_JSON_SQL)).rows[0].body
    : dashboardJson((await pool.query<DashboardRow>(DASHBOARD_ROWS_SQL)).rows);

const server = createServer((req, res) => {
  if (req.url === '/api/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
    return;
  }
  // The body is drained (like a real server must) before the answer goes out.
  req.resume();
  req.on('end', () => {
    answer().then(
      (body) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
  });
});

server.listen(Number(process.env.PORT ?? 4100), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
