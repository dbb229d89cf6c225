import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/alerts/evaluator.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: string;

beforeAll(async () => {
  server = await startTestServer();
  member = (await server.newUser('MEMBER')).token;
});
afterAll(() => server?.stop());

const RULE = 'id name labels summary runbookUrl';
const CREATE = `mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE} } }`;
const UPDATE = `mutation ($id: ID!, $input: AlertRuleInput!) { updateAlertRule(id: $id, input: $input) { ${RULE} } }`;
const base = { metric: 'labelled_metric', service: 'checkout', comparator: '>', threshold: 1, severity: 'HIGH', forSeconds: 0 };

const push = (metric: string, value: number, service = 'checkout') =>
  server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: metric, service, value }] }, member);

async function alertOf(ruleId: string) {
  const { alerts } = await server.gqlOk('{ alerts(first: 100) { edges { node { id status labels rule { id } } } } }', {}, server.adminToken);
  return alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.id === ruleId && a.status !== 'RESOLVED');
}

describe('alert labels', () => {
  it('should keep a rule\'s labels, summary and runbook link, and give its alerts the built-in labels too', async () => {
    const { createAlertRule: rule } = await server.gqlOk(CREATE, { input: {
      ...base, name: 'labelled', labels: { team: 'payments', tier: '1' }, summary: 'Checkout is slow', runbookUrl: 'https://runbooks.test/checkout',
    } }, server.adminToken);
    expect(rule).toMatchObject({ labels: { team: 'payments', tier: '1' }, summary: 'Checkout is slow', runbookUrl: 'https://runbooks.test/checkout' });
    await push('labelled_metric', 5);
    await evaluateRules(server.app.services);
    const alert = await alertOf(rule.id);
    expect(alert.labels).toEqual({ team: 'payments', tier: '1', severity: 'HIGH', service: 'checkout', metric: 'labelled_metric', rule: 'labelled' });

    // Omitted labels, summary and runbook stay; a rename reaches the open alert, which stays open.
    const { updateAlertRule } = await server.gqlOk(UPDATE, { id: rule.id, input: { ...base, name: 'labelled, renamed' } }, server.adminToken);
    expect(updateAlertRule).toMatchObject({ labels: { team: 'payments', tier: '1' }, summary: 'Checkout is slow', runbookUrl: 'https://runbooks.test/checkout' });
    const renamed = await alertOf(rule.id);
    expect(renamed.id).toBe(alert.id);
    expect(renamed.labels.rule).toBe('labelled, renamed');

    const cleared = await server.gqlOk(UPDATE, { id: rule.id, input: { ...base, name: 'labelled, renamed', labels: {}, summary: null, runbookUrl: '' } }, server.adminToken);
    expect(cleared.updateAlertRule).toMatchObject({ labels: {}, summary: null, runbookUrl: null });
    expect((await alertOf(rule.id)).labels).toEqual({ severity: 'HIGH', service: 'checkout', metric: 'labelled_metric', rule: 'labelled, renamed' });
  });

  it.each([
    [{ labels: { severity: 'LOW' } }, 'labels.severity'],
    [{ labels: { '1bad': 'x' } }, 'labels.1bad'],
    [{ labels: { team: 7 } }, 'labels.team'],
    [{ labels: ['team'] }, 'labels'],
    [{ labels: { team: 'x'.repeat(201) } }, 'labels.team'],
    [{ runbookUrl: 'javascript:alert(1)' }, 'runbookUrl'],
    [{ runbookUrl: 'not a url' }, 'runbookUrl'],
    [{ summary: 's'.repeat(201) }, 'summary'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (extra, field) => {
    const name = `refused ${field} ${Math.random()}`;
    const result = await server.gql(CREATE, { input: { ...base, name, ...extra } }, server.adminToken);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    const { alertRules } = await server.gqlOk('{ alertRules { name } }', {}, server.adminToken);
    expect(alertRules.map((r: any) => r.name)).not.toContain(name);
  });
});
