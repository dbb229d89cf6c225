import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: string;
let viewer: string;

beforeAll(async () => {
  server = await startTestServer();
  member = (await server.newUser('MEMBER')).token;
  viewer = (await server.newUser('VIEWER')).token;
});
afterAll(() => server?.stop());

const RULE_FIELDS = 'id name metric service comparator threshold forSeconds severity enabled';
const CREATE = `mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE_FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: AlertRuleInput!) { updateAlertRule(id: $id, input: $input) { ${RULE_FIELDS} } }`;
const DELETE = 'mutation ($id: ID!) { deleteAlertRule(id: $id) }';
const LIST = `{ alertRules { ${RULE_FIELDS} } }`;
const valid = { name: 'queue depth', metric: 'queue_depth', comparator: '>', threshold: 100, severity: 'HIGH' };

describe('default alert rules', () => {
  it('should exist from the first start, once', async () => {
    const { alertRules } = await server.gqlOk(LIST, {}, viewer);
    const defaults = alertRules.map((r: any) => [r.metric, r.comparator, r.threshold, r.severity]);
    expect(defaults).toEqual(expect.arrayContaining([
      ['cpu_percent', '>', 80, 'HIGH'],
      ['memory_percent', '>', 85, 'CRITICAL'],
      ['response_time_p95_ms', '>', 1000, 'MEDIUM'],
      ['error_rate_percent', '>', 1, 'HIGH'],
      ['db_connections_percent', '>', 80, 'HIGH'],
      ['component_up', '<', 1, 'CRITICAL'],
      ['disk_io_percent', '>', 80, 'HIGH'],
    ]));
    expect(alertRules).toHaveLength(7);
  });

  it('should not come back after a restart on the same database', async () => {
    const again = await startTestServer({}, server.database);
    try {
      expect((await again.gqlOk(LIST, {}, again.adminToken)).alertRules).toHaveLength(7);
    } finally {
      await again.app.stop();
    }
  });
});

describe('alert rule CRUD', () => {
  it('should create a rule with defaults for forSeconds and enabled, and find it by node(id)', async () => {
    const { createAlertRule: rule } = await server.gqlOk(CREATE, { input: valid }, server.adminToken);
    expect(rule).toMatchObject({ ...valid, service: null, forSeconds: 0, enabled: true });
    const { node } = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on AlertRule { name } } }', { id: rule.id }, viewer);
    expect(node.name).toBe('queue depth');
  });

  it('should update a rule and delete it', async () => {
    const { createAlertRule: rule } = await server.gqlOk(CREATE, { input: { ...valid, name: 'to change' } }, server.adminToken);
    const changed = { ...valid, name: 'changed', service: 'svc', comparator: '<=', threshold: -1.5, forSeconds: 30, severity: 'LOW', enabled: false };
    const { updateAlertRule } = await server.gqlOk(UPDATE, { id: rule.id, input: changed }, server.adminToken);
    expect(updateAlertRule).toMatchObject(changed);
    expect((await server.gqlOk(DELETE, { id: rule.id }, server.adminToken)).deleteAlertRule).toBe(rule.id);
    const { alertRules } = await server.gqlOk(LIST, {}, viewer);
    expect(alertRules.map((r: any) => r.id)).not.toContain(rule.id);
    const { node } = await server.gqlOk('query ($id: ID!) { node(id: $id) { id } }', { id: rule.id }, viewer);
    expect(node).toBeNull();
    expect((await server.gql(DELETE, { id: rule.id }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await server.gql(UPDATE, { id: rule.id, input: valid }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('should accept every comparator', async () => {
    for (const [i, comparator] of ['>', '>=', '<', '<=', '==', '!='].entries()) {
      const { createAlertRule } = await server.gqlOk(CREATE, { input: { ...valid, name: `cmp ${i}`, comparator } }, server.adminToken);
      expect(createAlertRule.comparator).toBe(comparator);
    }
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown comparator', { comparator: '=>' }, 'comparator'],
    ['a negative forSeconds', { forSeconds: -1 }, 'forSeconds'],
    ['an empty name', { name: ' ' }, 'name'],
    ['an empty metric', { metric: '' }, 'metric'],
    ['an over-long service', { service: 'x'.repeat(201) }, 'service'],
  ];
  for (const [what, change, field] of invalid) {
    it(`should reject ${what} with BAD_USER_INPUT`, async () => {
      const result = await server.gql(CREATE, { input: { ...valid, name: `bad ${what}`, ...change } }, server.adminToken);
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].extensions?.field).toBe(field);
    });
  }

  it('should reject an unknown severity and a non-numeric threshold', async () => {
    for (const change of [{ severity: 'URGENT' }, { threshold: 'high' }]) {
      const result = await server.gql(CREATE, { input: { ...valid, name: 'bad type', ...change } }, server.adminToken);
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await server.gqlOk(LIST, {}, viewer)).alertRules.map((r: any) => r.name)).not.toContain('bad type');
  });

  it('should refuse a second rule with the same name with CONFLICT', async () => {
    await server.gqlOk(CREATE, { input: { ...valid, name: 'Unique Name' } }, server.adminToken);
    const result = await server.gql(CREATE, { input: { ...valid, name: 'unique name' } }, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('should let only an ADMIN manage rules', async () => {
    const { createAlertRule: rule } = await server.gqlOk(CREATE, { input: { ...valid, name: 'admin only' } }, server.adminToken);
    for (const token of [member, viewer]) {
      expect((await server.gql(CREATE, { input: { ...valid, name: 'x' } }, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await server.gql(UPDATE, { id: rule.id, input: valid }, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await server.gql(DELETE, { id: rule.id }, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    expect((await server.gql(LIST)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should reject an id of another type', async () => {
    const { viewer: me } = await server.gqlOk('{ viewer { id } }', {}, server.adminToken);
    const result = await server.gql(DELETE, { id: me.id }, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
