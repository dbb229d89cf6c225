import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/users/passwords.js';
import { ensureAdmin } from '../../src/users/service.js';
import { codeOf, postGraphQL } from '../support/hostile.js';
import { rawSocket } from '../support/live.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const VIEWER_QUERY = '{ viewer { id email role } }';

describe('login', () => {
  it('should return a session token that signs requests in', async () => {
    const token = await server.login(ADMIN.email, ADMIN.password);
    const { viewer } = await server.gqlOk(VIEWER_QUERY, {}, token);
    expect(viewer).toMatchObject({ email: ADMIN.email, role: 'ADMIN' });
  });

  it('should accept the e-mail in any case', async () => {
    expect(await server.login(ADMIN.email.toUpperCase(), ADMIN.password)).toMatch(/^wfs_/);
  });

  it('should refuse a wrong password and an unknown e-mail alike with UNAUTHENTICATED', async () => {
    for (const [email, password] of [[ADMIN.email, 'wrong-password'], ['nobody@test.local', ADMIN.password]]) {
      const result = await server.gql('mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password });
      expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(result.errors?.[0].message).toBe('Invalid email or password');
    }
  });

  it('should store only a slow hash of the password', async () => {
    const db = new pg.Client({ connectionString: server.database.url });
    await db.connect();
    const { rows } = await db.query('select password_hash from users where email = $1', [ADMIN.email]);
    await db.end();
    expect(rows[0].password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(ADMIN.password);
  });
});

describe('sessions and API tokens', () => {
  it('should stop accepting a session after sign-out', async () => {
    const token = await server.login(ADMIN.email, ADMIN.password);
    expect(await server.gqlOk('mutation { signOut }', {}, token)).toEqual({ signOut: true });
    const after = await server.gql('{ workflows { totalCount } }', {}, token);
    expect(after.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should stop accepting an expired session', async () => {
    const token = await server.login(ADMIN.email, ADMIN.password);
    const db = new pg.Client({ connectionString: server.database.url });
    await db.connect();
    await db.query(`update sessions set expires_at = now() - interval '1 second' where token_hash = $1`, [hashToken(token)]);
    await db.end();
    const after = await server.gql('{ workflows { totalCount } }', {}, token);
    expect(after.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should show an API token once, store only its hash, and accept it as a bearer token', async () => {
    const { createApiToken } = await server.gqlOk('mutation { createApiToken(name: "ci worker") }', {}, server.adminToken);
    expect(createApiToken).toMatch(/^wft_[\w-]{43}$/);
    const { viewer } = await server.gqlOk(VIEWER_QUERY, {}, createApiToken);
    expect(viewer.email).toBe(ADMIN.email);
    const db = new pg.Client({ connectionString: server.database.url });
    await db.connect();
    const { rows } = await db.query('select token_hash from api_tokens');
    await db.end();
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].token_hash).not.toContain(createApiToken.slice(4, 20));
  });

});

describe('credentials that do not authenticate', () => {
  /** Session tokens that were good once, and tokens that never were. */
  async function badTokens(): Promise<Record<string, string>> {
    const expired = await server.login(ADMIN.email, ADMIN.password);
    const signedOut = await server.login(ADMIN.email, ADMIN.password);
    const { createApiToken: revoked } = await server.gqlOk('mutation { createApiToken(name: "to revoke") }', {}, server.adminToken);
    const { apiTokens } = await server.gqlOk('{ apiTokens { id name } }', {}, server.adminToken);
    const revokedId = apiTokens.find((t: { name: string }) => t.name === 'to revoke').id;
    await server.gqlOk('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id: revokedId }, server.adminToken);
    await server.gqlOk('mutation { signOut }', {}, signedOut);
    const db = new pg.Client({ connectionString: server.database.url });
    await db.connect();
    await db.query(`update sessions set expires_at = now() - interval '1 second' where token_hash = $1`, [hashToken(expired)]);
    await db.end();
    return { forged: `wfs_${'A'.repeat(43)}`, unknownApiToken: 'wft_unknown', huge: 'x'.repeat(5000), expired, signedOut, revoked };
  }

  const OPERATIONS = ['{ viewer { email } }', '{ health { status } }', '{ workflows { totalCount } }', 'mutation { signOut }', 'mutation { login(email: "a@b.c", password: "x") { token } }'];

  it('should answer 401 UNAUTHENTICATED with WWW-Authenticate to every operation, never as anonymous', async () => {
    const tokens = { ...(await badTokens()), malformedHeader: '' };
    for (const [what, token] of Object.entries(tokens)) {
      for (const query of OPERATIONS) {
        const response = await postGraphQL(server, { query }, undefined, { authorization: token ? `Bearer ${token}` : 'Bearer' });
        expect(response.status, `${what}: ${query}`).toBe(401);
        expect(response.headers['www-authenticate'], what).toMatch(/^Bearer realm="workflow-factory", error="invalid_token"/);
        expect(codeOf(response.json()), what).toBe('UNAUTHENTICATED');
        expect(response.json().data, what).toBeUndefined();
      }
    }
  });

  it('should answer a stale session cookie with 401 and clear it', async () => {
    const { expired, signedOut, forged } = await badTokens();
    for (const token of [expired, signedOut, forged, '%E0%A4%A']) {
      const response = await postGraphQL(server, { query: '{ viewer { email } }' }, undefined, { cookie: `wf_session=${token}` });
      expect(response.status).toBe(401);
      expect(codeOf(response.json())).toBe('UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(response.headers['set-cookie']?.[0]).toMatch(/^wf_session=; .*Max-Age=0/);
    }
  });

  it('should leave a request with another scheme, or no credential, anonymous', async () => {
    for (const headers of [{}, { authorization: 'Basic YTpi' }, { cookie: 'other=1' }] as Array<Record<string, string>>) {
      const response = await postGraphQL(server, { query: '{ viewer { email } }' }, undefined, headers);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ data: { viewer: null } });
    }
  });

  it('should close a WebSocket whose connection_init or cookie carries one with 4403', async () => {
    const { forged, expired, signedOut, revoked } = await badTokens();
    for (const token of [forged, expired, signedOut, revoked]) {
      const byParams = await rawSocket(server.url);
      byParams.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      expect((await byParams.closed).code).toBe(4403);
      const byCookie = await rawSocket(server.url, undefined, { headers: { cookie: `wf_session=${token}` } });
      byCookie.socket.send(JSON.stringify({ type: 'connection_init' }));
      expect((await byCookie.closed).code).toBe(4403);
    }
  });
});

describe('anonymous requests', () => {
  it('should need a user for every operation but login and health', async () => {
    const health = await server.gql('{ health { status } }');
    expect(health.data?.health.status).toBe('healthy');
    for (const query of [
      '{ workflows { totalCount } }',
      '{ workflow(id: "V29ya2Zsb3c6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } }',
      '{ node(id: "V29ya2Zsb3c6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } }',
      'mutation { createWorkflow(input: { name: "x" }) { id } }',
      'mutation { claimTask { id } }',
      'mutation { createApiToken(name: "x") }',
      'mutation { createUser(email: "a@b.c", name: "a", password: "password-1", role: ADMIN) { id } }',
    ]) {
      const result = await server.gql(query);
      expect(result.errors?.[0].extensions?.code, query).toBe('UNAUTHENTICATED');
    }
  });
});

describe('createUser', () => {
  it('should be for admins only', async () => {
    const member = await server.newUser('MEMBER');
    const result = await server.gql('mutation { createUser(email: "m@x.y", name: "m", password: "password-1", role: ADMIN) { id } }', {}, member.token);
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('should refuse bad input and a taken e-mail', async () => {
    const cases: Array<[string, string]> = [
      ['mutation { createUser(email: "not-an-email", name: "n", password: "password-1", role: MEMBER) { id } }', 'BAD_USER_INPUT'],
      ['mutation { createUser(email: "ok@x.y", name: "  ", password: "password-1", role: MEMBER) { id } }', 'BAD_USER_INPUT'],
      ['mutation { createUser(email: "ok@x.y", name: "n", password: "short", role: MEMBER) { id } }', 'BAD_USER_INPUT'],
      [`mutation { createUser(email: "${ADMIN.email}", name: "n", password: "password-1", role: MEMBER) { id } }`, 'CONFLICT'],
      ['mutation { createUser(email: "ok@x.y", name: "n", password: "password-1", role: OWNER) { id } }', 'GRAPHQL_VALIDATION_FAILED'],
    ];
    for (const [query, code] of cases) {
      const result = await server.gql(query, {}, server.adminToken);
      expect(result.errors?.[0].extensions?.code, query).toBe(code);
    }
  });
});

describe('ensureAdmin', () => {
  it('should let replicas starting together make sure of the same admin, creating it once', async () => {
    const email = 'bootstrap-race@test.local';
    const results = await Promise.all([1, 2, 3].map(() => ensureAdmin(server.app.orm.em.fork(), email, 'password-123')));
    expect(results.map((r) => r?.email)).toEqual([email, email, email]);
    expect(results.filter((r) => r?.password === 'created')).toHaveLength(1);
    const [{ n }] = await server.app.orm.em.fork().execute('select count(*)::int as n from users where email = ?', [email]);
    expect(n).toBe(1);
  });

  it('should set ADMIN_PASSWORD only on a new account: an existing admin keeps its own unless ADMIN_PASSWORD_RESET, which signs it out', async () => {
    const email = 'bootstrap-keep@test.local';
    expect(await ensureAdmin(server.app.orm.em.fork(), email, 'first-password')).toEqual({ email, password: 'created' });
    const session = await server.login(email, 'first-password');
    // Next start, same settings: nothing to do.
    expect(await ensureAdmin(server.app.orm.em.fork(), email, 'first-password')).toEqual({ email, password: 'matches', promoted: false });
    // The settings now name another password (the admin changed theirs, or the setting was edited): kept.
    expect(await ensureAdmin(server.app.orm.em.fork(), email, 'other-password')).toEqual({ email, password: 'kept', promoted: false });
    expect(await server.login(email, 'first-password')).toMatch(/^wfs_/);
    expect((await server.gqlOk(VIEWER_QUERY, {}, session)).viewer.email).toBe(email);

    expect(await ensureAdmin(server.app.orm.em.fork(), email, 'other-password', true)).toEqual({ email, password: 'reset', promoted: false });
    expect(await server.login(email, 'other-password')).toMatch(/^wfs_/);
    const old = await server.gql(VIEWER_QUERY, {}, session);
    expect(old.data?.viewer ?? null).toBeNull(); // signed out (anonymous, or UNAUTHENTICATED)
  });
});
