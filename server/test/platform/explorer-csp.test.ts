import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('explorer under its Content-Security-Policy', () => {
  it('should load Altair from this server only, with no CSP violation, and introspect for a signed-in user', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.host !== new URL(server.url).host) foreign.push(request.url());
    });
    // As a signed-in user would set it in Altair's headers: introspection then works.
    await page.route('**/graphql', (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${server.adminToken}` } }));
    const introspected = page.waitForResponse((response) => response.request().method() === 'POST' && /__schema/.test(response.request().postData() ?? ''));
    await page.goto(`${server.url}/graphql`);
    const introspection = await introspected;
    expect(introspection.status()).toBe(200);
    expect((await introspection.json()).data.__schema.queryType.name).toBe('Query');
    await page.waitForSelector('app-window, .app-window, altair-window', { timeout: 20_000 }).catch(() => undefined);
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: '/tmp/wf-explorer-csp.png' }).catch(() => undefined);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    expect(await page.locator('.loading-screen').isVisible()).toBe(false);
    expect(await page.title()).toMatch(/Altair/);
    await page.close();
  });
});
