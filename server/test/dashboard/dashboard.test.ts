import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClientBuild, openBrowser, type TestBrowser } from '../support/browser.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';
import { startedWorkflow } from '../support/workflows.js';

let server: TestServer;
let browser: TestBrowser;
let workflow: { id: string; name: string };

beforeAll(async () => {
  ensureClientBuild();
  server = await startTestServer();
  workflow = await startedWorkflow(server, server.adminToken, [{ name: 'extract', queue: 'browser' }, { name: 'load', dependsOn: ['extract'], queue: 'browser' }], 'nightly import');
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

  it('should show health and workflow counts on the overview', async () => {
    const { page } = browser;
    await page.getByText('database').first().waitFor();
    await expect.poll(() => page.locator('[data-count="pending"] .n').textContent()).toBe('1');
    await browser.screenshot('overview');
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

  it('should show the health page', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Health', exact: true }).click();
    await page.getByRole('heading', { name: /Replica/ }).waitFor();
    await browser.screenshot('health');
  });

  it('should sign out and stay signed out after a reload', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);
  });
});
