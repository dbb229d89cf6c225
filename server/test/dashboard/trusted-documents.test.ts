/**
 * The real dashboard in Chromium against TRUSTED_DOCUMENTS=only, signed in as a MEMBER (whose
 * own documents the server would refuse): its pages work, and every query and mutation it
 * posts is an id of its build's manifest, with no document text.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFESTS } from '../../src/http/trusted-documents.js';
import { ensureClientBuild, openBrowser, signInThroughForm, type TestBrowser } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { CliCreateWorkflowDocument, CliStartWorkflowDocument } from '../../../sdk/src/generated/graphql.js';

const ids = new Set(Object.keys(JSON.parse(readFileSync(MANIFESTS[0], 'utf8')) as Record<string, string>).map((id) => id.replace(/^sha256:/, '')));

describe('the dashboard with TRUSTED_DOCUMENTS=only', () => {
  let server: TestServer;
  let browser: TestBrowser;
  const posted: Array<{ query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } }> = [];
  beforeAll(async () => {
    ensureClientBuild();
    server = await startTestServer({ TRUSTED_DOCUMENTS: 'only' });
    browser = await openBrowser(server.url);
    browser.page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql' && request.method() === 'POST') posted.push(JSON.parse(request.postData() ?? '{}'));
    });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('should work for a member, sending only ids its build registered', async () => {
    const member = await server.newUser('MEMBER');
    // As the wf CLI makes one: its documents are trusted too.
    const created = await server.gqlOk(String(CliCreateWorkflowDocument), { input: { name: 'trusted-workflow', tasks: [{ name: 'trusted-step' }] } }, member.token);
    await server.gqlOk(String(CliStartWorkflowDocument), { id: created.createWorkflow.id }, member.token);
    const { page } = browser;
    await signInThroughForm(page, server.url, { email: member.email, password: 'password-123' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'trusted-workflow' }).first().click();
    await page.getByText('trusted-step').first().waitFor();
    expect(posted.length).toBeGreaterThan(2);
    for (const body of posted) {
      expect(body.query, 'a document text was posted').toBeUndefined();
      expect(ids.has(body.extensions!.persistedQuery!.sha256Hash)).toBe(true);
    }
    expect(browser.consoleErrors).toEqual([]);
  });
});
