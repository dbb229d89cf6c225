/**
 * Debian's Chromium driven by playwright-core, locked to the machine: a fresh profile per run,
 * no background traffic, and a record of every console error and every request's host, so
 * tests can assert the dashboard stays on the test server and logs nothing wrong.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ADMIN, startTestServer, type TestServer } from './server.js';

export const SCREENSHOTS = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));
const ENSURE_BUILT = fileURLToPath(new URL('../../../scripts/ensure-built.mjs', import.meta.url));

/** Signs in through the dashboard's login form and waits for the overview. */
export async function signInThroughForm(page: Page, serverUrl: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(`${serverUrl}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/**
 * Registers the hooks of a dashboard suite: the dashboard built, a server started with `env`, and
 * Chromium signed in as the admin before it; both closed after it.
 */
export function dashboardSuite(env: Record<string, string> = {}): { server: TestServer; browser: TestBrowser } {
  const suite = {} as { server: TestServer; browser: TestBrowser };
  beforeAll(async () => {
    ensureClientBuild();
    suite.server = await startTestServer(env);
    suite.browser = await openBrowser(suite.server.url);
    await signInThroughForm(suite.browser.page, suite.server.url, ADMIN);
  }, 300_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  return suite;
}

/** Builds client/build unless it is current (the same script `npm start` runs). */
export function ensureClientBuild(): void {
  execFileSync(process.execPath, [ENSURE_BUILT, 'client'], { stdio: 'inherit', timeout: 280_000 });
}

export interface TestBrowser {
  page: Page;
  context: BrowserContext;
  /** console errors and uncaught page errors, as text */
  consoleErrors: string[];
  /** every URL the page requested whose origin is not the test server's */
  foreignRequests: string[];
  /** Closes the page's live (WebSocket) connections as a network drop would; new ones pass. */
  dropLiveConnections(): Promise<void>;
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** `javaScriptEnabled: false` opens pages as a browser with JavaScript turned off would. */
export async function openBrowser(serverUrl: string, { javaScriptEnabled = true } = {}): Promise<TestBrowser> {
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  const profile = await mkdtemp(path.join(os.tmpdir(), 'wf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 860 },
    javaScriptEnabled,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const origin = new URL(serverUrl).origin;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    const sameOrigin = url.origin === origin || url.origin === origin.replace(/^http/, 'ws');
    if (!sameOrigin) foreignRequests.push(request.url());
  });
  // Live connections pass through a route the test can cut.
  const sockets = new Set<WebSocketRoute>();
  await context.routeWebSocket(/\/graphql$/, (socket) => {
    socket.connectToServer();
    sockets.add(socket);
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    page, context, consoleErrors, foreignRequests,
    async dropLiveConnections() {
      const open = [...sockets];
      sockets.clear();
      await Promise.all(open.map((socket) => socket.close({ code: 1012, reason: 'dropped by the test' })));
    },
    async screenshot(name) {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
