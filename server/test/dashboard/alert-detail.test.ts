/**
 * An alert's page in Chromium: its labels, the route that took it, its notifications with
 * their delivery state (one delivered, one refused by a real receiver), the silence that mutes
 * it; "Open incident" on a CRITICAL alert opens one in one click; maintenance windows shaded
 * on the metric chart; at 1,440 and 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/alerts/evaluator.js';
import { deliverDue } from '../../src/alerts/notifications/outbox.js';
import { dispatchNotifications } from '../../src/alerts/routing/dispatch.js';
import { dashboardSuite } from '../support/browser.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';

const suite = dashboardSuite();
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
let receiver: HttpReceiver;
let alertId: string;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  receiver.setAnswer((request) => (request.path === '/broken' ? { status: 400, body: 'bad payload' } : { status: 200, body: 'ok' }));
  const point = async (name: string, path: string) => (await gql(`mutation { createContactPoint(input: { name: "${name}", kind: WEBHOOK, settings: { url: "${receiver.url}${path}" } }) { id } }`)).createContactPoint.id;
  const pager = await point('Pager', '/pager');
  const broken = await point('Broken hook', '/broken');
  await gql('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', {
    input: { matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: [pager, broken], groupWaitSeconds: 0 },
  });
  await gql('mutation { createAlertRule(input: { name: "Checkout failing", metric: "checkout_errors", comparator: ">", threshold: 5, severity: CRITICAL, labels: { team: "payments" }, summary: "Customers cannot pay" }) { id } }');
  await gql('mutation { recordMetrics(samples: [{ name: "checkout_errors", service: "checkout", value: 42 }]) }');
  const app = suite.server.app.services;
  await evaluateRules(app);
  await dispatchNotifications(app);
  await deliverDue(app, app.senders);
  const { alerts } = await gql('{ alerts(first: 5) { edges { node { id rule { name } } } } }');
  alertId = alerts.edges.find((e: any) => e.node.rule.name === 'Checkout failing').node.id;
  await gql(`mutation { createSilence(input: { matchers: [{ label: "team", op: "=", value: "payments" }], endsAt: "${new Date(Date.now() + 3_600_000).toISOString()}", comment: "Provider outage" }) { id } }`);
  await gql('mutation { createMaintenanceWindow(input: { name: "Hourly batch", matchers: [{ label: "service", op: "=", value: "batch" }], cron: "0 * * * *", durationMinutes: 20 }) { id } }');
});
afterAll(async () => {
  await receiver?.close();
});

describe('dashboard alert page', () => {
  it('should show the alert\'s labels, its route, its notifications and the silence that mutes it', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('link', { name: 'Checkout failing', exact: true }).click();
    await page.getByRole('heading', { name: /Checkout failing/, level: 1 }).waitFor();
    await page.getByRole('list', { name: 'Labels' }).getByText('team=payments').waitFor();
    await page.getByText('Customers cannot pay').waitFor();
    await page.locator('[data-route="1"]').getByText('severity=CRITICAL').waitFor();
    expect(await page.locator('[data-route="1"]').textContent()).toContain('Pager, Broken hook');
    const rows = page.locator('[data-notification="FIRING"]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const texts = await rows.allTextContents();
    expect(texts.find((t) => t.includes('Pager'))).toContain('delivered');
    expect(texts.find((t) => t.includes('Broken hook'))).toMatch(/failed[\s\S]*HTTP 400 bad payload/);
    await page.locator('[data-silence="Provider outage"]').waitFor();
    await suite.browser.screenshot('alert-detail-1440');
    expect(await fitsWindow()).toBe(true);
  });

  it('should open an incident from a CRITICAL alert in one click', async () => {
    const { page } = suite.browser;
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('button', { name: 'Open an incident for Checkout failing on checkout' }).click();
    await page.waitForURL(/\/incidents$/);
    await page.getByText('Checkout failing').first().waitFor();
    const { incidents } = await gql('{ incidents(first: 5) { edges { node { title impact status components updates { message } } } } }');
    expect(incidents.edges.map((e: any) => e.node)).toEqual([{
      title: 'Checkout failing', impact: 'CRITICAL', status: 'INVESTIGATING', components: [],
      updates: [{ message: 'Investigating: the alert “Checkout failing” fired (checkout_errors > 5).' }],
    }]);
  });

  it('should shade the maintenance windows on the metric chart', async () => {
    const { page } = suite.browser;
    await page.goto(`${suite.server.url}/metrics?metric=checkout_errors&range=24h`);
    await page.locator('[data-band="Hourly batch"]').waitFor();
  });

  it.each([1440, 390])('should keep the alert page within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/alerts/${encodeURIComponent(alertId)}`);
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await page.locator('[data-notification="FIRING"]').first().waitFor();
    await suite.browser.screenshot(`alert-detail-${width}`);
    expect(await fitsWindow(), `/alerts/<id> at ${width} px`).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
