import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/users/passwords.js';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;
let owner: { token: string };
let other: { token: string };

beforeAll(async () => {
  server = await startTestServer();
  owner = await server.newUser('MEMBER', 'token-owner');
  other = await server.newUser('MEMBER', 'token-other');
});
afterAll(() => server?.stop());

const LIST = '{ apiTokens { id name createdAt expiresAt lastUsedAt } }';
const CREATE = 'mutation ($n: String!, $e: DateTime) { createApiToken(name: $n, expiresAt: $e) }';
const REVOKE = 'mutation ($id: ID!) { revokeApiToken(id: $id) }';

async function createToken(as: string, name: string, expiresAt?: string): Promise<string> {
  return (await server.gqlOk(CREATE, { n: name, e: expiresAt ?? null }, as)).createApiToken;
}

async function list(as: string): Promise<Array<{ id: string; name: string; expiresAt: string | null; lastUsedAt: string | null }>> {
  return (await server.gqlOk(LIST, {}, as)).apiTokens;
}

const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);

const viewerOf = async (token: string) => (await server.gql('{ viewer { email } }', {}, token)).data?.viewer ?? null;

describe('API tokens', () => {
  it("should list only the viewer's tokens, without their secrets, with the last time each was used", async () => {
    const token = await createToken(owner.token, 'ci worker');
    const listed = await list(owner.token);
    expect(listed).toEqual([expect.objectContaining({ name: 'ci worker', expiresAt: null, lastUsedAt: null })]);
    const raw = JSON.stringify(await server.gql(LIST, {}, owner.token));
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(hashToken(token));
    expect(await list(other.token)).toEqual([]);

    expect(await viewerOf(token)).toBeTruthy();
    await waitFor('last use recorded', async () => (await list(owner.token))[0].lastUsedAt);
  });

  it('should stop accepting a token as soon as its owner revokes it', async () => {
    const token = await createToken(owner.token, 'to revoke');
    const { id } = (await list(owner.token)).find((t) => t.name === 'to revoke')!;
    expect(await viewerOf(token)).toBeTruthy();
    expect((await server.gqlOk(REVOKE, { id }, owner.token)).revokeApiToken).toBe(true);
    expect(await viewerOf(token)).toBeNull();
    expect((await server.gql('{ workflows { totalCount } }', {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await list(owner.token)).map((t) => t.name)).not.toContain('to revoke');
    expect((await server.gql(REVOKE, { id }, owner.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it("should not let anyone else revoke a token, nor learn that it exists", async () => {
    const token = await createToken(owner.token, 'kept');
    const { id } = (await list(owner.token)).find((t) => t.name === 'kept')!;
    expect((await server.gql(REVOKE, { id }, other.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await server.gql(REVOKE, { id }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await server.gql(REVOKE, { id })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await server.gql(LIST, {})).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await server.gql(REVOKE, { id: 'not-an-id' }, owner.token)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await server.gql('query ($id: ID!) { node(id: $id) { id } }', { id }, owner.token)).data?.node).toBeNull();
    expect(await viewerOf(token)).toBeTruthy();
  });

  it('should honour an expiry, and refuse one in the past', async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const token = await createToken(owner.token, 'expiring', soon);
    expect((await list(owner.token)).find((t) => t.name === 'expiring')?.expiresAt).toBe(soon);
    expect(await viewerOf(token)).toBeTruthy();
    await sql(`update api_tokens set expires_at = now() - interval '1 second' where token_hash = $1`, [hashToken(token)]);
    expect(await viewerOf(token)).toBeNull();

    const past = await server.gql(CREATE, { n: 'late', e: new Date(Date.now() - 1000).toISOString() }, owner.token);
    expect(past.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresAt' });
  });
});
