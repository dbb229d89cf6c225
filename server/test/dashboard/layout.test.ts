/**
 * The dashboard on a busy deployment in Chromium, on a laptop (1,440 px) and a phone (390 px):
 * no page wider than the window, a 300-task workflow grouped and paged, charts that list only
 * what is in range and fit a fresh start, one time format, and an explorer linked from the
 * nav that greets an anonymous visitor with a sign-in hint rather than an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClientBuild, openBrowser, signInThroughForm, type TestBrowser } from '../support/browser.js';
import { BIG_WORKFLOW_TASKS, seedBusyDashboard } from '../support/dashboard-data.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: TestBrowser;
let bigWorkflowId: string;

beforeAll(async () => {
  ensureClientBuild();
  server = await startTestServer({ ALERT_EVAL_INTERVAL_SECONDS: '1' });
  ({ bigWorkflowId } = await seedBusyDashboard(server));
  browser = await openBrowser(server.url);
  await signIn();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const signIn = () => signInThroughForm(browser.page, server.url, ADMIN);

/** Each route with what shows once its data is in. */
const ROUTES: Array<{ name: string; path: () => string; ready: string }> = [
  { name: 'overview', path: () => '/', ready: '[data-alert] >> nth=2' },
  { name: 'workflows', path: () => '/workflows', ready: 'text=three hundred steps' },
  { name: 'workflow-300', path: () => `/workflows/${bigWorkflowId}`, ready: 'tr[data-task]' },
  { name: 'alerts', path: () => '/alerts', ready: '[data-alert] >> nth=2' },
  { name: 'metrics', path: () => '/metrics?range=1h', ready: 'figure canvas' },
  { name: 'health', path: () => '/health', ready: 'text=replica:' },
  { name: 'audit', path: () => '/audit', ready: 'td >> text=createWorkflow' },
];

describe('dashboard layout', () => {
  it.each([1440, 390])('should keep every page within a %i px wide window', async (width) => {
    const { page } = browser;
    await page.setViewportSize({ width, height: 900 });
    for (const route of ROUTES) {
      await page.goto(`${server.url}${route.path()}`);
      await page.locator(route.ready).first().waitFor();
      // Charts size themselves to their container after the first frame.
      await page.waitForTimeout(300);
      const size = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, window: innerWidth }));
      await browser.screenshot(`layout-${route.name}-${width}`);
      expect(size.scroll, `${route.name} at ${width} px`).toBeLessThanOrEqual(size.window);
    }
    // The overview's alerts keep their values in view (not cut off by a scroll box).
    await page.goto(server.url);
    const value = page.locator('[data-alert] td.num').first();
    await value.waitFor();
    const box = await value.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(width);
    expect(await value.textContent()).toMatch(/\d/);
  }, 120_000);

  it('should group a 300-task workflow by status with counts, and page it', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${server.url}/workflows/${bigWorkflowId}`);
    const rows = page.locator('tr[data-task]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    const all = page.locator('[data-group="all"] .count');
    expect(await all.textContent()).toBe(String(BIG_WORKFLOW_TASKS));
    const counts = await page.locator('[data-group]:not([data-group="all"])').evaluateAll((buttons) =>
      Object.fromEntries(buttons.map((b) => [b.getAttribute('data-group')!, Number(b.querySelector('.count')!.textContent)])) as Record<string, number>);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(BIG_WORKFLOW_TASKS);
    expect(counts).toMatchObject({ succeeded: 16, running: 4 });

    await page.locator('[data-group="running"]').click();
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rows.locator('[data-status]').allTextContents()).toEqual(['running', 'running', 'running', 'running']);
    await expect(page.getByRole('navigation', { name: 'Task pages' }).count()).resolves.toBe(0);

    await page.locator('[data-group="all"]').click();
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(() => rows.first().getAttribute('data-task')).toBe('step-051');
    await page.getByText('Page 2 of 6').waitFor();
    // The timeline draws the latest runs, not a bar per task (each run: a bar, and a queued span before it).
    expect(await page.locator('svg rect.bar').count()).toBeLessThanOrEqual(30);
    expect(await page.locator('svg rect.bar').count()).toBeGreaterThan(0);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(6000);
  });

  it('should chart only the replicas with data in range, a stopped one without a current value, and fit a fresh start', async () => {
    const { page } = browser;
    // The seeded samples are minutes old by now: the live replicas report again, as they would.
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
      s: ['replica-a', 'replica-b'].map((instance) => ({ name: 'cpu_percent', service: 'api', instance, value: 12 })),
    }, server.adminToken);
    await page.goto(server.url);
    const cpu = page.getByRole('img', { name: /^CPU:/ });
    await expect.poll(() => cpu.getAttribute('aria-label')).toMatch(/replica-a \d/);
    const label = (await cpu.getAttribute('aria-label'))!;
    // Stopped 30 minutes ago: when, not a current value (a date in front past midnight).
    expect(label).toMatch(/replica-stopped stopped (\w+ \d+, )?\d+:\d+/);
    // Two hours ago is outside the hour: no legend entry, no colour, no value.
    expect(label).not.toContain('replica-gone');
    expect(await page.locator('figure').first().getByText('replica-gone').count()).toBe(0);
    // The data starts 40 minutes into the hour: the axis starts there, and says so.
    await page.locator('figure').first().locator('[data-collecting]').waitFor();
  });

  it('should write every time in one format, the charts\' range included', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await page.locator('[data-alert] time').first().waitFor();
    const mismatches = await page.evaluate(() => {
      const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
      // Another day's time has its date in front of the same clock.
      return [...document.querySelectorAll('time')].map((t) => [t.textContent!, clock.format(new Date(t.getAttribute('datetime')!))]).filter(([shown, wanted]) => !shown.endsWith(wanted));
    });
    expect(mismatches).toEqual([]);
    const range = await page.evaluate(() => {
      const minutes = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
      const label = document.querySelector('figure [role="img"]')!.getAttribute('aria-label')!;
      return { label, pattern: minutes.formatToParts(new Date()).map((p) => (p.type === 'hour' || p.type === 'minute' ? '\\d+' : p.type === 'dayPeriod' ? '\\S+' : p.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('') };
    });
    expect(range.label).toMatch(new RegExp(`; (\\w+ \\d+, )?${range.pattern} to ${range.pattern}$`));
  });

  it('should link the explorer from the nav, signed in there through the same session', async () => {
    const { page } = browser;
    await page.goto(server.url);
    const introspected = page.waitForResponse((response) => response.request().method() === 'POST' && /__schema/.test(response.request().postData() ?? ''));
    await page.getByRole('link', { name: 'API explorer' }).click();
    await page.waitForURL(/\/graphql$/);
    expect((await introspected).status()).toBe(200);
    expect(await page.locator('.wf-sign-in').count()).toBe(0);
  });

  it('should greet an anonymous visitor of the explorer with a sign-in hint and no third-party banner', { timeout: 60_000 }, async () => {
    const { page, context } = browser;
    await context.clearCookies();
    const errorsBefore = browser.consoleErrors.length;
    await page.goto(`${server.url}/graphql`, { waitUntil: 'networkidle' });
    await page.waitForSelector('app-root');
    const hint = page.getByRole('dialog', { name: 'You are not signed in.' });
    await hint.waitFor();
    await page.waitForTimeout(1500);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/Altair AI|AI Assistant/i);
    await browser.screenshot('explorer-anonymous');
    // Altair still tries to introspect once when it sets its endpoint (refused: anonymous) and logs it.
    for (const error of browser.consoleErrors.splice(errorsBefore)) expect(error).toMatch(/40[01]/);

    // The hint signs in and comes back, now with the schema.
    await hint.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    const introspected = page.waitForResponse((response) => response.request().method() === 'POST' && /__schema/.test(response.request().postData() ?? ''));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/graphql$/);
    expect((await introspected).status()).toBe(200);
    expect(await page.locator('.wf-sign-in').count()).toBe(0);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);
  });
});
