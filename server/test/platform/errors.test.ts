import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

async function sql(statement: string) {
  const db = new pg.Client({ connectionString: server.database.url });
  await db.connect();
  await db.query(statement);
  await db.end();
}

describe('internal errors', () => {
  it('should answer INTERNAL_SERVER_ERROR with a request id, never SQL or a stack, and keep serving', async () => {
    await sql('alter table workflows rename to workflows_moved');
    try {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'req-internal-1' },
        body: JSON.stringify({ query: '{ workflows { totalCount } }' }),
      });
      const text = await response.text();
      const body = JSON.parse(text);
      expect(body.errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(text).not.toMatch(/workflows_moved|relation|select|stack|\.ts:/i);
      expect(response.headers.get('x-request-id')).toBe('req-internal-1');
    } finally {
      await sql('alter table workflows_moved rename to workflows');
    }
    expect((await server.gqlOk('{ workflows { totalCount } }', {}, server.adminToken)).workflows.totalCount).toBe(0);
  });
});
