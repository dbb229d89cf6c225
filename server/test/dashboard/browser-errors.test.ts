/**
 * The dashboard's own errors reach Sentry: with SENTRY_DSN_BROWSER the server names the DSN to
 * the page (/api/client-settings) and lets its CSP reach it; an error in Chromium arrives as an
 * envelope at a real HTTP sink standing in for Sentry, with the release and the route and
 * nothing personal (no e-mail, no cookie, no URL with ids).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { ADMIN, startTestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

// Sentry answers the page cross-origin; the sink does too.
const sink: HttpReceiver = await startHttpReceiver();
sink.setAnswer(() => ({ status: 200, body: '{}', headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' } }));
const DSN = `http://0123456789abcdef0123456789abcdef@${new URL(sink.url).host}/42`;

const suite = dashboardSuite({ SENTRY_DSN_BROWSER: DSN });
afterAll(() => sink.close());

describe('browser error reporting', () => {
  it('should send an uncaught error of a page to the DSN with release and route, and no personal data', async () => {
    const { page } = suite.browser;
    const workflow = await suite.server.gqlOk('mutation { createWorkflow(input: { name: "private-name", tasks: [{ name: "t" }] }) { id } }', {}, suite.server.adminToken);
    await page.goto(`${suite.server.url}/workflows/${workflow.createWorkflow.id}?secret-query=1`);
    await page.getByText('private-name').first().waitFor();
    await page.evaluate(() => setTimeout(() => {
      throw new Error('dashboard test failure');
    }));
    const envelope = await waitFor('the envelope', async () => sink.received.find((request) => request.body.includes('dashboard test failure')));
    expect(envelope.path).toMatch(/^\/api\/42\/envelope\/\?/);
    expect(envelope.body).toMatch(/"release":"workflow-factory-dashboard@[^"]+"/);
    expect(envelope.body).toContain('"route":"/workflows/[id]"');
    for (const personal of [ADMIN.email, workflow.createWorkflow.id, 'secret-query', 'wf_session', suite.server.adminToken]) expect(envelope.body).not.toContain(personal);
    expect(envelope.body).not.toMatch(/"user":|"request":/);
    expect(suite.browser.consoleErrors.filter((text) => !text.includes('dashboard test failure'))).toEqual([]);
  });
});

describe('without SENTRY_DSN_BROWSER', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should name no DSN to the dashboard (which then loads no Sentry code)', async () => {
    const response = await fetch(`${server.url}/api/client-settings`);
    expect(await response.json()).toEqual({ sentryDsn: null });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
