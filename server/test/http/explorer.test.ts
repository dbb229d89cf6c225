/** The explorer at GET /graphql must load in a real browser with no request leaving the machine. */
import { chromium, type Browser } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await chromium.launch({
    executablePath: execFileSync('sh', ['-c', 'command -v chromium']).toString().trim(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('GraphQL explorer', () => {
  it('should load Altair from this server only and run a query', async () => {
    const page = await browser.newPage();
    const offMachine: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) offMachine.push(request.url());
    });
    const response = await page.goto(`${server.url}/graphql`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    await page.waitForSelector('app-root', { timeout: 15_000 });
    expect(await page.title()).toMatch(/Altair/i);
    // Its initial query asks for the viewer; sent anonymously, the answer is null.
    await page.getByText('Send Request').first().click();
    // The editor shows "viewer" too: wait for the result pane itself.
    await expect.poll(() => page.locator('app-query-result').innerText(), { timeout: 15_000 }).toMatch(/"viewer":\s*null/);
    expect(offMachine).toEqual([]);
  });

  it('should break no rule of its Content-Security-Policy, and introspect for a signed-in user', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    // As a signed-in user would set it in Altair's headers; anonymous callers may not introspect.
    await page.route('**/graphql', (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${server.adminToken}` } }));
    const introspected = page.waitForResponse((response) => response.request().method() === 'POST' && /__schema/.test(response.request().postData() ?? ''));
    const response = await page.goto(`${server.url}/graphql`, { waitUntil: 'networkidle' });
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-/);
    const introspection = await introspected;
    expect(introspection.status()).toBe(200);
    expect((await introspection.json()).data.__schema.queryType.name).toBe('Query');
    expect(await page.locator('.loading-screen').isVisible()).toBe(false);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('should still answer GraphQL GET requests from non-browser clients', async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ health { status } }')}`, {
      headers: { accept: 'application/graphql-response+json', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { health: { status: 'healthy' } } });
  });
});
