/**
 * Editing on the Alert routing page in Chromium: a contact point is added, tested against a
 * real receiver and edited (its redacted secret sent back unchanged keeps the stored one); a
 * route (with its escalation), a silence, a maintenance window and an inhibition rule are each changed in place
 * through the form their Edit button opens, and a refused edit says why; at 1,440 and 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';

const suite = dashboardSuite();
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe('dashboard Alert routing page, editing', () => {
  it('should add, test and edit a contact point, keeping its secret', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts/routing`);
    await page.getByLabel('Contact point name').fill('Ops hook');
    await page.getByLabel('Webhook URL').fill(`${receiver.url}/ops`);
    await page.getByLabel('Signing secret (optional)').fill('s3cret-signing-key');
    await page.getByRole('button', { name: 'Add contact point' }).click();
    const card = page.locator('[data-contact-point="Ops hook"]');
    await card.waitFor();
    await card.getByRole('button', { name: 'Test Ops hook' }).click();
    await page.getByText('Test message to “Ops hook” delivered').waitFor();
    expect(receiver.received.filter((r) => r.path === '/ops')).toHaveLength(1);
    const signature = receiver.received[0].headers['x-signature-256'];

    await card.getByRole('button', { name: 'Edit Ops hook' }).click();
    await page.getByRole('heading', { name: 'Edit “Ops hook”' }).waitFor();
    expect(await page.getByLabel('Signing secret (optional)').inputValue()).toBe('••••••');
    await page.getByLabel('Contact point name').fill('Ops webhook');
    await page.getByRole('button', { name: 'Save contact point' }).click();
    await page.locator('[data-contact-point="Ops webhook"]').waitFor();
    await page.getByRole('button', { name: 'Test Ops webhook' }).click();
    await page.getByText('Test message to “Ops webhook” delivered').waitFor();
    // Same secret: the new message is signed with the stored key, not with the redacted text.
    const second = receiver.received[1];
    const { createHmac } = await import('node:crypto');
    expect(second.headers['x-signature-256']).toBe(`sha256=${createHmac('sha256', 's3cret-signing-key').update(second.body).digest('hex')}`);
    expect(signature).toMatch(/^sha256=/);
  });

  it('should edit a route, a silence, a window and an inhibition rule in place, saying why an edit is refused', async () => {
    const { page } = suite.browser;
    await gql('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', { input: { matchers: [{ label: 'severity', op: '=', value: 'HIGH' }], contactPointIds: [] } });
    await gql(`mutation { createSilence(input: { matchers: [{ label: "service", op: "=", value: "billing" }], endsAt: "${new Date(Date.now() + 3_600_000).toISOString()}", comment: "Billing deploy" }) { id } }`);
    await gql('mutation { createMaintenanceWindow(input: { name: "Backups", matchers: [{ label: "service", op: "=", value: "backup" }], cron: "0 2 * * 0", durationMinutes: 60 }) { id } }');
    await gql('mutation { createInhibitionRule(input: { source: [{ label: "rule", op: "=", value: "Database down" }], target: [{ label: "severity", op: "=~", value: "HIGH|MEDIUM" }] }) { id } }');
    await page.goto(`${suite.server.url}/alerts/routing`);

    await page.getByRole('button', { name: 'Edit route 1' }).click();
    await page.getByRole('heading', { name: 'Edit route 1' }).waitFor();
    expect(await page.getByLabel('Route matchers').inputValue()).toBe('severity=HIGH');
    await page.getByLabel('Route matchers').fill('severity=~(HIGH');
    await page.getByRole('button', { name: 'Save route' }).click();
    await page.getByRole('alert').filter({ hasText: 'matchers.0.value is not a valid regular expression' }).waitFor();
    await page.getByLabel('Route matchers').fill('severity=~HIGH|CRITICAL, service="pay, ments"');
    await page.getByLabel('Ops webhook', { exact: true }).check();
    await page.getByLabel('Escalate after (s)').fill('600');
    await page.getByRole('button', { name: 'Save route' }).click();
    await page.getByText('Escalation needs whole seconds and a contact point to escalate to.').waitFor();
    await page.getByLabel('Escalate to Ops webhook').check();
    await page.getByRole('button', { name: 'Save route' }).click();
    await page.getByRole('heading', { name: 'Add a route' }).waitFor();
    await page.locator('[data-route="1"]').getByText('Ops webhook').waitFor();

    await page.getByRole('button', { name: 'Edit silence Billing deploy' }).click();
    await page.getByLabel('Comment').fill('Billing deploy, extended');
    await page.getByLabel('For (minutes from now)').fill('180');
    await page.getByRole('button', { name: 'Save silence' }).click();
    await page.locator('[data-silence="Billing deploy, extended"]').getByText('active').waitFor();

    await page.getByRole('button', { name: 'Edit window Backups' }).click();
    await page.getByLabel('Cron').fill('30 3 * * 6');
    await page.getByRole('button', { name: 'Save window' }).click();
    await page.locator('[data-window="Backups"]').getByText('30 3 * * 6').waitFor();

    await page.getByRole('button', { name: 'Edit inhibition of severity=~HIGH|MEDIUM' }).click();
    await page.getByLabel('Equal labels').fill('service, team');
    await page.getByRole('button', { name: 'Save inhibition' }).click();
    await page.getByRole('heading', { name: 'Add an inhibition rule' }).waitFor();
    await suite.browser.screenshot('alert-routing-edited-1440');
    expect(await fitsWindow()).toBe(true);

    const data = await gql(`{ notificationRoutes { matchers { label op value } contactPoints { name } escalateAfterSeconds escalateTo { name } }
      silences { comment endsAt } maintenanceWindows { name cron } inhibitionRules { equal } contactPoints { name } }`);
    expect(data.notificationRoutes).toEqual([{ matchers: [{ label: 'severity', op: '=~', value: 'HIGH|CRITICAL' }, { label: 'service', op: '=', value: 'pay, ments' }], contactPoints: [{ name: 'Ops webhook' }], escalateAfterSeconds: 600, escalateTo: [{ name: 'Ops webhook' }] }]);
    expect(data.silences).toHaveLength(1);
    expect(data.silences[0].comment).toBe('Billing deploy, extended');
    expect(new Date(data.silences[0].endsAt).getTime()).toBeGreaterThan(Date.now() + 170 * 60_000);
    expect(data.maintenanceWindows).toEqual([{ name: 'Backups', cron: '30 3 * * 6' }]);
    // The first start's inhibition, then the one edited here.
    expect(data.inhibitionRules).toEqual([{ equal: ['service'] }, { equal: ['service', 'team'] }]);
    expect(data.contactPoints).toEqual([{ name: 'Ops webhook' }]);
  });

  it.each([1440, 390])('should keep the page with an edit form open within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/alerts/routing`);
    await page.getByRole('button', { name: 'Edit Ops webhook' }).click();
    await page.getByRole('button', { name: 'Edit route 1' }).click();
    await page.getByRole('heading', { name: 'Edit route 1' }).waitFor();
    await suite.browser.screenshot(`alert-routing-editing-${width}`);
    expect(await fitsWindow(), `/alerts/routing editing at ${width} px`).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).first().click();
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
