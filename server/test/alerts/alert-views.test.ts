/**
 * What an alert's page and the metric charts read: `Alert.routes` (the routes today's policy
 * sends it to), `MaintenanceWindow.openings(from, to)` (the bands), and `updateSilence`
 * (editing a silence in place), with their refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/alerts/evaluator.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const admin = (query: string, variables: Record<string, unknown> = {}) => server.gqlOk(query, variables, server.adminToken);

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('Alert.routes', () => {
  it('should list the routes that take the alert, in order, and none when the default policy does', async () => {
    const route = (matchers: unknown[], extra = {}) => admin('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', { input: { matchers, contactPointIds: [], ...extra } });
    await route([{ label: 'service', op: '=', value: 'nowhere' }]);
    await route([{ label: 'severity', op: '=', value: 'HIGH' }], { continue: true });
    await route([{ label: 'service', op: '=~', value: 'pay.*' }]);
    await route([{ label: 'metric', op: '=', value: 'views_depth' }]);
    await admin('mutation { createAlertRule(input: { name: "views", metric: "views_depth", comparator: ">", threshold: 1, severity: HIGH }) { id } }');
    await admin('mutation { createAlertRule(input: { name: "views low", metric: "views_low", comparator: ">", threshold: 1, severity: LOW }) { id } }');
    await admin('mutation { recordMetrics(samples: [{ name: "views_depth", service: "payments", value: 5 }, { name: "views_low", service: "search", value: 5 }]) }');
    await evaluateRules(server.app.services);
    const { alerts } = await admin('{ alerts(first: 10) { edges { node { service routes { position matchers { value } } } } } }');
    const byService = Object.fromEntries(alerts.edges.map((e: any) => [e.node.service, e.node.routes]));
    expect(byService.payments).toEqual([{ position: 2, matchers: [{ value: 'HIGH' }] }, { position: 3, matchers: [{ value: 'pay.*' }] }]);
    expect(byService.search).toEqual([]);
  });
});

describe('MaintenanceWindow.openings', () => {
  it('should give the openings that overlap the range, and refuse a backwards or too long range', async () => {
    await admin('mutation { createMaintenanceWindow(input: { name: "nightly", matchers: [{ label: "service", op: "=", value: "batch" }], cron: "0 2 * * *", durationMinutes: 90, timezone: "UTC" }) { id } }');
    const { maintenanceWindows } = await admin('{ maintenanceWindows { name openings(from: "2026-03-01T03:00:00Z", to: "2026-03-03T02:30:00Z") { startsAt endsAt } } }');
    expect(maintenanceWindows.find((w: any) => w.name === 'nightly').openings).toEqual([
      { startsAt: '2026-03-01T02:00:00.000Z', endsAt: '2026-03-01T03:30:00.000Z' },
      { startsAt: '2026-03-02T02:00:00.000Z', endsAt: '2026-03-02T03:30:00.000Z' },
      { startsAt: '2026-03-03T02:00:00.000Z', endsAt: '2026-03-03T03:30:00.000Z' },
    ]);
    for (const [from, to, message] of [['2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z', 'to must be after from'], ['2025-01-01T00:00:00Z', '2026-03-01T00:00:00Z', 'at most 400 days']]) {
      const result = await server.gql(`{ maintenanceWindows { openings(from: "${from}", to: "${to}") { startsAt } } }`, {}, server.adminToken);
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'to' } });
      expect(result.errors?.[0].message).toContain(message);
    }
  });
});

describe('updateSilence', () => {
  const UPDATE = 'mutation ($id: ID!, $input: SilenceInput!) { updateSilence(id: $id, input: $input) { matchers { label op value } startsAt endsAt comment active } }';
  it('should change a silence in place, keeping its start, and refuse bad input or an ended silence', async () => {
    const member = await server.newUser('MEMBER');
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const { createSilence } = await server.gqlOk('mutation ($input: SilenceInput!) { createSilence(input: $input) { id startsAt } }', {
      input: { matchers: [{ label: 'service', op: '=', value: 'billing' }], endsAt, comment: 'first' },
    }, member.token);
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const { updateSilence } = await server.gqlOk(UPDATE, { id: createSilence.id, input: { matchers: [{ label: 'service', op: '=~', value: 'bill.*' }], endsAt: later, comment: 'widened' } }, member.token);
    expect(updateSilence).toEqual({ matchers: [{ label: 'service', op: '=~', value: 'bill.*' }], startsAt: createSilence.startsAt, endsAt: later, comment: 'widened', active: true });

    const bad = await server.gql(UPDATE, { id: createSilence.id, input: { matchers: [{ label: 'service', op: '=~', value: '(' }], endsAt: later, comment: 'x' } }, member.token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'matchers.0.value' });
    const viewer = await server.newUser('VIEWER');
    expect((await server.gql(UPDATE, { id: createSilence.id, input: { matchers: [{ label: 'a', op: '=', value: 'b' }], endsAt: later, comment: 'x' } }, viewer.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await server.gqlOk('mutation ($id: ID!) { expireSilence(id: $id) { id } }', { id: createSilence.id }, member.token);
    const ended = await server.gql(UPDATE, { id: createSilence.id, input: { matchers: [{ label: 'a', op: '=', value: 'b' }], endsAt: later, comment: 'x' } }, member.token);
    expect(ended.errors?.[0].extensions?.code).toBe('CONFLICT');
    const { silences } = await admin('{ silences { comment matchers { value } } }');
    expect(silences.find((s: any) => s.comment === 'widened').matchers).toEqual([{ value: 'bill.*' }]);
  });
});
