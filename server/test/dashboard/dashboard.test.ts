import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClientBuild, openBrowser, type TestBrowser } from '../support/browser.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';
import { claim, startedWorkflow } from '../support/workflows.js';

let server: TestServer;
let browser: TestBrowser;
let workflow: { id: string; name: string };

beforeAll(async () => {
  ensureClientBuild();
  server = await startTestServer();
  workflow = await startedWorkflow(server, server.adminToken, [{ name: 'extract', queue: 'browser' }, { name: 'load', dependsOn: ['extract'], queue: 'browser' }], 'nightly import');
  // Ten minutes of two replicas' key metrics, so the overview has lines to draw.
  const now = Date.now();
  const samples = ['cpu_percent', 'memory_percent', 'response_time_p95_ms', 'error_rate_percent', 'db_connections_percent'].flatMap((name, n) =>
    ['replica-a', 'replica-b'].flatMap((instance, r) =>
      Array.from({ length: 20 }, (_, i) => ({ name, service: 'api', instance, value: 10 + n * 5 + r * 3 + (i % 5), time: new Date(now - (20 - i) * 30_000).toISOString() })),
    ),
  );
  await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: samples }, server.adminToken);
  browser = await openBrowser(server.url);
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('dashboard in Chromium', () => {
  it('should send a visitor to sign in, and sign in with the labelled form', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await page.waitForURL(/\/login$/);
    await browser.screenshot('login');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid email or password');
    // The refused sign-in is the one error the browser may log (its 401), and only once.
    expect(browser.consoleErrors.splice(0)).toEqual([expect.stringContaining('401')]);

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('should keep the session across a reload, in an HttpOnly cookie', async () => {
    const { page, context } = browser;
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'wf_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('wf_session');
  });

  it('should show health, workflow counts, open alerts and the key metrics with their thresholds on the overview', async () => {
    const { page } = browser;
    await page.getByText('database').first().waitFor();
    await expect.poll(() => page.locator('[data-count="pending"] .n').textContent()).toBe('1');
    await page.getByText('Nothing is firing').waitFor();
    await expect.poll(() => page.locator('figure canvas').count()).toBe(5);
    // The CPU chart names its target and the default rule's alert threshold.
    const cpu = page.getByRole('img', { name: /^CPU:/ });
    expect(await cpu.getAttribute('aria-label')).toMatch(/replica-a \d+\.\d+ %, replica-b .*target 50.*alert > 80/);
    await browser.screenshot('overview');

    // A sample pushed through the API lands on the chart without a reload.
    await page.locator('[data-live="connected"]').waitFor();
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
      s: [{ name: 'cpu_percent', service: 'api', instance: 'replica-a', value: 77 }],
    }, server.adminToken);
    await expect.poll(() => cpu.getAttribute('aria-label')).toMatch(/replica-a 77\.0 %/);
  });

  it('should list workflows, filter them, and open one with its tasks', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('link', { name: workflow.name }).waitFor();
    await browser.screenshot('workflows');

    await page.getByLabel('Search').fill('no such workflow');
    await page.getByText('No workflow matches these filters').waitFor();
    await page.getByLabel('Search').fill('nightly');
    await page.getByRole('link', { name: workflow.name }).click();

    await page.getByRole('heading', { name: workflow.name }).waitFor();
    const extract = page.locator('tr[data-task="extract"]');
    await expect.poll(() => extract.locator('[data-status]').textContent()).toBe('ready');
    expect(await page.locator('tr[data-task="load"] td').nth(2).textContent()).toBe('extract');
    await browser.screenshot('workflow');
  });

  it('should show a task status change made through the API without a reload', async () => {
    const { page } = browser;
    await page.locator('[data-live="connected"]').waitFor();
    const marker = await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
    const extract = page.locator('tr[data-task="extract"] [data-status]');

    const task = await claim(server, server.adminToken, 'browser');
    expect(task?.name).toBe('extract');
    await expect.poll(() => extract.textContent()).toBe('running');
    await expect.poll(() => page.locator('h1 + [data-status]').textContent()).toBe('running');

    await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task!.id }, server.adminToken);
    await expect.poll(() => extract.textContent()).toBe('succeeded');
    await expect.poll(() => page.locator('tr[data-task="load"] [data-status]').textContent()).toBe('ready');
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(marker);
    await browser.screenshot('workflow-live');
  });

  it('should show when the live connection drops, and catch up on what it missed once it is back', async () => {
    const { page } = browser;
    await browser.dropLiveConnections();
    await page.locator('[data-live="reconnecting"]').waitFor();
    expect(await page.locator('[data-live]').textContent()).toContain('reconnecting');
    await browser.screenshot('live-dropped');

    const task = await claim(server, server.adminToken, 'browser');
    expect(task?.name).toBe('load');
    await page.locator('[data-live="connected"]').waitFor({ timeout: 20_000 });
    await page.getByText('Live updates are back').waitFor();
    await expect.poll(() => page.locator('tr[data-task="load"] [data-status]').textContent()).toBe('running');
  });

  it('should show alerts with their rules, and metrics with a range picker', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByText('No open alerts').waitFor();
    await page.locator('tr[data-rule]').first().waitFor();
    await browser.screenshot('alerts');

    await page.getByRole('link', { name: 'Metrics', exact: true }).click();
    await page.getByLabel('Range').selectOption('15m');
    await page.getByLabel('Metric').selectOption('memory_percent');
    await expect.poll(() => page.getByRole('img', { name: /^memory_percent:/ }).getAttribute('aria-label')).toMatch(/replica-a/);
    expect(new URL(page.url()).searchParams.get('range')).toBe('15m');
    await browser.screenshot('metrics');
  });

  it('should show the health page', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Health', exact: true }).click();
    await page.getByRole('heading', { name: 'Now' }).waitFor();
    await page.getByText(/replica:/).first().waitFor();
    await browser.screenshot('health');
  });

  it('should show the audit log to an admin, filtered by mutation', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const actions = page.locator('tbody td code:not(.small)');
    await expect.poll(async () => (await actions.allTextContents()).includes('createWorkflow')).toBe(true);
    await browser.screenshot('audit');
    await page.getByLabel('Mutation').fill('startWorkflow');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => actions.allTextContents()).toEqual(['startWorkflow']);
    await expect.poll(() => page.locator('tbody tr').first().textContent()).toContain(ADMIN.email);
    await page.locator('tbody tr').first().getByRole('link', { name: 'workflow' }).click();
    await page.getByRole('heading', { name: workflow.name }).waitFor();
  });

  it('should export the filtered workflows as CSV, signed in by the session cookie', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByLabel('Search').fill('nightly');
    const csv = page.getByRole('group', { name: 'Export this list' }).getByRole('link', { name: 'CSV' });
    await expect.poll(() => csv.getAttribute('href')).toBe('/api/export/workflows.csv?search=nightly');
    const [download] = await Promise.all([page.waitForEvent('download'), csv.click()]);
    expect(download.suggestedFilename()).toBe('workflows.csv');
    const [header, ...rows] = (await readFile(await download.path(), 'utf8')).trim().split('\r\n');
    expect(header).toBe('id,name,description,status,ownerId,createdAt,updatedAt,startedAt,finishedAt');
    expect(rows.map((row) => row.split(',')[1])).toEqual([workflow.name]);
  });

  it('should sign out and stay signed out after a reload', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('should send a browser with a stale session cookie to sign in, and drop the cookie', async () => {
    const { page, context } = browser;
    await context.addCookies([{ name: 'wf_session', value: 'wfs_expired-or-revoked', url: server.url, httpOnly: true, sameSite: 'Strict' }]);
    await page.goto(`${server.url}/workflows`);
    await page.waitForURL(/\/login\?next=%2Fworkflows$/);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await context.cookies(server.url)).some((c) => c.name === 'wf_session')).toBe(false);
    // The server's 401 for the stale cookie is the one error the browser logs.
    expect(browser.consoleErrors.splice(0)).toEqual([expect.stringContaining('401')]);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);
  });
});
