/**
 * The compiled server (issue 16): `scripts/ensure-built.mjs server` builds server/dist once and
 * then only checks a hash; the compiled entry point, run with `npm start`'s own flags, serves
 * the schema type-graphql builds from decorator metadata (lost metadata would fail the start
 * or the query), applies migrations, and drains on SIGTERM with exit 0.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../support/process.js';

const ENSURE_BUILT = fileURLToPath(new URL('../../../scripts/ensure-built.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const ensureBuilt = () => execFileSync(process.execPath, [ENSURE_BUILT, 'server'], { encoding: 'utf8', timeout: 240_000 });

let server: ServerProcess;
beforeAll(async () => {
  ensureBuilt();
  server = await startServerProcess({}, { entry: 'compiled' });
}, 300_000);
afterAll(() => server?.stop());

describe('the compiled server', () => {
  it('should be stamped with its sources, so the next start does not build again', () => {
    expect(existsSync(`${DIST}server/src/main.js`)).toBe(true);
    expect(readFileSync(`${DIST}.source-hash`, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(ensureBuilt()).toBe('');
  });

  it('should serve queries and mutations through the decorated schema', async () => {
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: unknown };
    };
    const created = await gql('mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id status tasks { name status dependsOn { name } } } }', {
      input: { name: 'compiled', tasks: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data.createWorkflow).toMatchObject({ status: 'DRAFT', tasks: [{ name: 'a', dependsOn: [] }, { name: 'b', dependsOn: [{ name: 'a' }] }] });
    const bad = await gql('mutation { createWorkflow(input: { name: "" }) { id } }');
    expect(bad.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    expect((await fetch(`${server.url}/api/live`)).status).toBe(200);
  });

  it('should drain and exit 0 on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});
