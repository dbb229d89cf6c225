/**
 * The Alert routing page in Chromium: an admin adds notification routes and moves them,
 * silences and expires, adds a maintenance window and an inhibition rule through labelled
 * forms, and sees why a form is refused (the browser's check, then the server's), at 1,440 and
 * 390 px.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/alerts/evaluator.js';
import { dashboardSuite } from '../support/browser.js';

const suite = dashboardSuite();
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);

describe('dashboard Alert routing page', () => {
  it('should add, reorder and delete routes, refusing a bad regular expression', async () => {
    const { page } = suite.browser;
    await gql('mutation { createContactPoint(input: { name: "On-call pager", kind: WEBHOOK, settings: { url: "http://127.0.0.1:9/pager" } }) { id } }');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('link', { name: 'Routing, silences and maintenance' }).click();
    await page.getByRole('heading', { name: 'Alert routing', level: 1 }).waitFor();

    await page.getByLabel('Route matchers').fill('severity');
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.getByText('“severity” is not label=value').waitFor();
    expect(await page.getByLabel('Route matchers').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Route matchers').fill('service=~(unclosed');
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.getByRole('alert').filter({ hasText: 'matchers.0.value is not a valid regular expression' }).waitFor();

    await page.getByLabel('Route matchers').fill('severity=CRITICAL');
    await page.getByLabel('On-call pager', { exact: true }).check();
    await page.getByLabel('Group wait (s)').fill('10');
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.locator('[data-route="1"]').getByText('severity=CRITICAL').waitFor();
    await page.locator('[data-route="1"]').getByText('On-call pager').waitFor();
    await page.getByLabel('Route matchers').fill('service=~pay.*');
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.locator('[data-route="2"]').getByText('service=~pay.*').waitFor();

    await page.getByRole('button', { name: 'Move route 2 up' }).click();
    await page.locator('[data-route="1"]').getByText('service=~pay.*').waitFor();
    const { notificationRoutes } = await gql('{ notificationRoutes { position matchers { value } groupWaitSeconds contactPoints { name } } }');
    expect(notificationRoutes).toEqual([
      { position: 1, matchers: [{ value: 'pay.*' }], groupWaitSeconds: 10, contactPoints: [] },
      { position: 2, matchers: [{ value: 'CRITICAL' }], groupWaitSeconds: 10, contactPoints: [{ name: 'On-call pager' }] },
    ]);
    await page.getByRole('button', { name: 'Delete route 1' }).click();
    await page.locator('[data-route="1"]').getByText('severity=CRITICAL').waitFor();
    await suite.browser.screenshot('alert-routing-routes-1440');
    expect(await fitsWindow()).toBe(true);
  });

  it('should silence and expire, add a maintenance window and an inhibition rule, saying why a form is refused', async () => {
    const { page } = suite.browser;
    await page.goto(`${suite.server.url}/alerts/routing`);
    await page.getByRole('button', { name: 'Silence', exact: true }).click();
    await page.getByText('Say which alerts to silence').waitFor();
    await page.getByText('Say why, for whoever sees the silenced alerts.').waitFor();
    await page.getByLabel('Silence matchers').fill('service=payments');
    await page.getByLabel('Comment').fill('Card provider outage, tracked upstream');
    await page.getByRole('button', { name: 'Silence', exact: true }).click();
    const silence = page.locator('[data-silence="Card provider outage, tracked upstream"]');
    await silence.getByText('active').waitFor();
    await silence.getByRole('button', { name: 'Expire' }).click();
    await silence.getByText('ended').waitFor();

    await page.getByLabel('Window name').fill('Sunday backups');
    await page.getByLabel('Window matchers').fill('service=backup');
    await page.getByLabel('Cron').fill('0 0 30 2 *');
    await page.getByRole('button', { name: 'Add window' }).click();
    await page.getByRole('alert').filter({ hasText: 'cron never fires' }).waitFor();
    await page.getByLabel('Cron').fill('0 2 * * 0');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Add window' }).click();
    await page.locator('[data-window="Sunday backups"]').getByText('Europe/Berlin').waitFor();

    await page.getByLabel('Source matchers').fill('rule=Database down');
    await page.getByLabel('Target matchers').fill('severity=~HIGH|MEDIUM');
    await page.getByRole('button', { name: 'Add inhibition' }).click();
    await page.locator('[data-inhibition="severity=~HIGH|MEDIUM"]').waitFor();
    expect(await page.locator('[data-inhibition]').count()).toBe(2);
    await suite.browser.screenshot('alert-routing-muting-1440');

    const data = await gql('{ silences { active comment } maintenanceWindows { name cron timezone } inhibitionRules { equal target { op value } } }');
    expect(data.silences).toEqual([{ active: false, comment: 'Card provider outage, tracked upstream' }]);
    expect(data.maintenanceWindows).toEqual([{ name: 'Sunday backups', cron: '0 2 * * 0', timezone: 'Europe/Berlin' }]);
    expect(data.inhibitionRules.at(-1)).toEqual({ equal: ['service'], target: [{ op: '=~', value: 'HIGH|MEDIUM' }] });
    // the list downloads from the server as the page shows it (GET /api/export/maintenance-windows.json)
    const [windows] = await Promise.all([page.waitForEvent('download'), page.getByRole('group', { name: 'Export the maintenance windows' }).getByRole('link', { name: 'JSON' }).click()]);
    expect(JSON.parse(await readFile((await windows.path())!, 'utf8')).map((w: any) => [w.name, w.cron, w.timezone])).toEqual([['Sunday backups', '0 2 * * 0', 'Europe/Berlin']]);
    await page.getByRole('button', { name: 'Delete window Sunday backups' }).click();
    await page.getByText('No maintenance windows').waitFor();
  });

  it('should open the silence form from an alert row, pre-filled with its rule and service', async () => {
    const { page } = suite.browser;
    await gql('mutation { createAlertRule(input: { name: "Queue, too deep", metric: "queue_depth", comparator: ">", threshold: 10, severity: HIGH }) { id } }');
    await gql('mutation { recordMetrics(samples: [{ name: "queue_depth", service: "billing", value: 50 }]) }');
    await evaluateRules(suite.server.app.services);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('link', { name: 'Silence Queue, too deep on billing' }).click();
    await page.getByRole('heading', { name: 'Alert routing', level: 1 }).waitFor();
    expect(await page.getByLabel('Silence matchers').inputValue()).toBe('rule="Queue, too deep", service="billing"');
    await page.getByLabel('Comment').fill('Billing batch backlog, expected');
    await page.getByRole('button', { name: 'Silence', exact: true }).click();
    await page.locator('[data-silence="Billing batch backlog, expected"]').getByText('active').waitFor();
    const { alerts } = await gql('{ alerts(first: 5, status: [FIRING]) { edges { node { service silencedBy { comment matchers { label op value } } } } } }');
    expect(alerts.edges.find((e: any) => e.node.service === 'billing').node.silencedBy).toEqual([{
      comment: 'Billing batch backlog, expected',
      matchers: [{ label: 'rule', op: '=', value: 'Queue, too deep' }, { label: 'service', op: '=', value: 'billing' }],
    }]);
  });

  it.each([1440, 390])('should keep the page within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/alerts/routing`);
    await page.getByRole('heading', { name: 'Inhibition rules' }).waitFor();
    await page.locator('[data-route="1"]').waitFor();
    await suite.browser.screenshot(`alert-routing-${width}`);
    expect(await fitsWindow(), `/alerts/routing at ${width} px`).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
