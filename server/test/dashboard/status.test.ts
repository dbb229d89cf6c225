/**
 * The status pages in Chromium: the dashboard's Status page, where an admin opens, updates and
 * resolves an incident with labelled fields and sees why a form is refused, at 1,440 and
 * 390 px; and the server's `/status` in a browser with JavaScript turned off.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite, openBrowser } from '../support/browser.js';

const suite = dashboardSuite({ STATUS_PAGE: 'public' });

const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

describe('dashboard Status page', () => {
  it('should open, update and resolve an incident through labelled forms, saying why a form is refused', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(suite.server.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Status' }).click();
    await page.getByRole('heading', { name: 'Status', level: 1 }).waitFor();
    await page.getByText('database').first().waitFor();

    await page.getByRole('button', { name: 'Open incident' }).click();
    await page.getByText('Give the incident a title.').waitFor();
    await page.getByText('Say what users notice and what you are doing.').waitFor();
    expect(await page.getByLabel('Title').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Title').fill('Slow workflow starts');
    await page.getByLabel('Impact').selectOption('MEDIUM');
    await page.getByLabel('database').check();
    await page.getByLabel('Message', { exact: true }).fill('Starting a workflow takes seconds; we are looking into it.');
    await page.getByRole('button', { name: 'Open incident' }).click();
    const incident = page.locator('[data-incident="Slow workflow starts"]');
    await incident.getByText('Starting a workflow takes seconds').waitFor();
    await suite.browser.screenshot('status-admin-open-1440');

    await incident.getByRole('button', { name: 'Post update' }).click();
    await incident.getByText('Write what changed before posting an update.').waitFor();
    await incident.getByLabel('New status').selectOption('IDENTIFIED');
    await incident.getByLabel('Update message').fill('An index was missing.');
    await incident.getByRole('button', { name: 'Post update' }).click();
    await incident.getByText('An index was missing.').waitFor();
    await incident.getByLabel('Update message').fill('Index added; all fast again.');
    await incident.getByRole('button', { name: 'Resolve' }).click();
    await incident.getByText('Index added; all fast again.').waitFor();
    expect(await incident.getByRole('button', { name: 'Resolve' }).count()).toBe(0);
    expect(await incident.locator('[data-status]').first().textContent()).toBe('medium');
    expect(await fitsWindow()).toBe(true);

    const { incidents } = await suite.server.gqlOk('{ incidents(first: 1) { edges { node { status updates { status } } } } }', {}, suite.server.adminToken);
    expect(incidents.edges[0].node).toEqual({ status: 'RESOLVED', updates: [{ status: 'RESOLVED' }, { status: 'IDENTIFIED' }, { status: 'INVESTIGATING' }] });
  });

  it.each([1440, 390])('should keep the Status page and the public page within a %i px window', async (width) => {
    const { page } = suite.browser;
    if (width === 1440) await suite.server.gqlOk('mutation { createIncident(input: { title: "Sign-in errors for some users", impact: HIGH, components: ["api"], message: "We are investigating failed sign-ins." }) { id } }', {}, suite.server.adminToken);
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/incidents`);
    await page.locator('[data-incident="Sign-in errors for some users"]').first().waitFor();
    await suite.browser.screenshot(`status-admin-${width}`);
    expect(await fitsWindow(), `/incidents at ${width} px`).toBe(true);
    await page.goto(`${suite.server.url}/status`);
    await page.getByText('Sign-in errors for some users').first().waitFor();
    await suite.browser.screenshot(`status-public-${width}`);
    expect(await fitsWindow(), `/status at ${width} px`).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});

describe('/status without JavaScript', () => {
  it('should show the state, components with 90 uptime bars and the incidents, and run nothing', async () => {
    const noScript = await openBrowser(suite.server.url, { javaScriptEnabled: false });
    try {
      const { page } = noScript;
      const response = await page.goto(`${suite.server.url}/status`);
      expect(response!.status()).toBe(200);
      await page.getByRole('heading', { name: 'Status', level: 1 }).waitFor();
      expect(await page.locator('.banner').textContent()).toBe('Some systems are degraded');
      expect(await page.getByRole('heading', { name: 'Open incidents' }).count()).toBe(1);
      expect(await page.getByText('Sign-in errors for some users').count()).toBeGreaterThan(0);
      for (const name of ['api', 'database']) expect(await page.locator(`section[aria-label="${name}"] .bars li`).count()).toBe(90);
      // the stylesheet applied: the bars have height and colour without any script
      const bar = await page.locator('section[aria-label="database"] .bars li').last().boundingBox();
      expect(bar!.height).toBeGreaterThan(20);
      expect(await page.locator('script').count()).toBe(0);
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: 900 });
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
        await noScript.screenshot(`status-public-nojs-${width}`);
      }
      expect(noScript.consoleErrors).toEqual([]);
      expect(noScript.foreignRequests).toEqual([]);
    } finally {
      await noScript.close();
    }
  });
});
