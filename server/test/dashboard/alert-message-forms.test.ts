/**
 * Issue 15 in Chromium, at 1,440 and 390 px: the alert-rule form's labels, summary and runbook
 * (with the form's own validation messages and the server's refusal shown in the form), and a
 * contact point's message template previewed through the server, for a sample alert and for a
 * real one whose label is hostile (it shows escaped for Slack, as text, never as markup); the
 * template saved is what the API reads back.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

const suite = dashboardSuite({ ALERT_EVAL_INTERVAL_SECONDS: '1', ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0' });
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
const HOSTILE = '<img src=x onerror=alert(1)> *loud*';

describe('dashboard alert rule form: labels, summary, runbook', () => {
  it('should say what is wrong with labels and the runbook, save them, and show the server\'s refusal in the form', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('button', { name: 'New rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'New alert rule' });
    await dialog.getByLabel('Name').fill('Checkout failing');
    await dialog.getByLabel('Metric').fill('checkout_errors');
    await dialog.getByLabel('Labels').fill('team payments');
    await dialog.getByLabel('Runbook URL').fill('ftp://runbooks.test/checkout');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText('Line 1: “team payments” is not name=value').waitFor();
    await dialog.getByText('The runbook must be an http:// or https:// address.').waitFor();
    expect(await dialog.getByLabel('Labels').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Labels').fill('team=payments\nservice=checkout');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText('Line 2: service is set by every alert itself').waitFor();
    await dialog.getByLabel('Labels').fill('team=payments\ntier = 1');
    await dialog.getByLabel('Runbook URL').fill('https://runbooks.test/checkout');
    await dialog.getByLabel('Summary').fill('Checkout requests fail');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText('Rule “Checkout failing” created.').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const rules = async () => (await gql('{ alertRules { name labels summary runbookUrl } }')).alertRules.find((r: any) => r.name === 'Checkout failing');
    expect(await rules()).toEqual({ name: 'Checkout failing', labels: { team: 'payments', tier: '1' }, summary: 'Checkout requests fail', runbookUrl: 'https://runbooks.test/checkout' });

    await page.getByRole('button', { name: 'Edit rule Checkout failing' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit alert rule' });
    expect(await edit.getByLabel('Labels').inputValue()).toBe('team=payments\ntier=1');
    expect(await edit.getByLabel('Summary').inputValue()).toBe('Checkout requests fail');
    await edit.getByLabel('Labels').fill(`team=${'x'.repeat(201)}`);
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await edit.getByRole('alert').filter({ hasText: 'labels.team is longer than 200 characters' }).waitFor();
    await edit.getByLabel('Labels').fill('team=checkout');
    await edit.getByLabel('Summary').fill('');
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await edit.waitFor({ state: 'hidden' });
    expect(await rules()).toEqual({ name: 'Checkout failing', labels: { team: 'checkout' }, summary: null, runbookUrl: 'https://runbooks.test/checkout' });
  });

  it.each([1440, 390])('should fit the rule form in a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/alerts`);
    await page.getByRole('button', { name: 'Edit rule Checkout failing' }).click();
    await page.getByRole('dialog', { name: 'Edit alert rule' }).getByLabel('Runbook URL').waitFor();
    await suite.browser.screenshot(`alert-rule-form-${width}`);
    expect(await fitsWindow(), `rule form at ${width} px`).toBe(true);
    await page.getByRole('dialog', { name: 'Edit alert rule' }).getByRole('button', { name: 'Cancel' }).click();
  });
});

describe('dashboard contact point message template and preview', () => {
  it('should preview a template for a sample and a real alert, escaped, and save it', async () => {
    await gql('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { name: 'Hostile label', metric: 'hostile_metric', comparator: '>', threshold: 0, severity: 'HIGH', labels: { team: HOSTILE } },
    });
    await gql('mutation { recordMetrics(samples: [{ name: "hostile_metric", service: "checkout", value: 2 }]) }');
    await waitFor('the hostile alert firing', async () => (await gql('{ alerts(first: 20, status: [FIRING]) { edges { node { rule { name } } } } }'))
      .alerts.edges.some((e: any) => e.node.rule.name === 'Hostile label'));

    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/alerts/routing`);
    const form = page.getByRole('form', { name: 'Add a contact point' });
    await form.getByLabel('Contact point name').fill('Chat');
    await form.getByLabel('Kind').selectOption('SLACK');
    await form.getByLabel('Slack webhook URL').fill('https://hooks.slack.test/services/T/B/x');

    // The default, to start from.
    await form.getByRole('button', { name: 'Edit the default' }).click();
    await waitFor('the default in the field', async () => (await form.getByLabel('Message template').inputValue()).startsWith('{{ summary }}'));
    await form.locator('[data-preview="text"]').getByText('[FIRING] HIGH High error rate: error_rate_percent on api is 7.5').waitFor();

    await form.getByLabel('Message template').fill('{{ summary | nope }}');
    await form.getByRole('button', { name: 'Preview' }).click();
    await form.getByText('template is not a valid template').waitFor();
    expect(await form.getByLabel('Message template').getAttribute('aria-invalid')).toBe('true');

    const template = '*{{ alerts[0].rule.name }}* for team {{ alerts[0].labels.team }}';
    await form.getByLabel('Message template').fill(template);
    await form.getByRole('button', { name: 'Preview' }).click();
    await form.locator('[data-preview="text"]').getByText('*High error rate* for team platform').waitFor();
    await form.getByLabel('Preview with').selectOption({ label: 'Hostile label on checkout (firing)' });
    await form.getByRole('button', { name: 'Preview' }).click();
    const shown = form.locator('[data-preview="text"]');
    await shown.getByText('*Hostile label* for team').waitFor();
    expect(await shown.textContent()).toBe('*Hostile label* for team &lt;img src=x onerror=alert(1)&gt; \u200b*loud\u200b*');
    // Shown as text: no element made from the label.
    expect(await page.locator('.preview img').count()).toBe(0);
    await form.getByText('Whole payload').click();
    expect(JSON.parse((await form.locator('[data-preview="body"]').textContent())!)).toEqual({ text: await shown.textContent() });
    await suite.browser.screenshot('contact-point-preview-1440');
    expect(await fitsWindow()).toBe(true);

    await form.getByRole('button', { name: 'Add contact point' }).click();
    await page.locator('[data-contact-point="Chat"]').waitFor();
    const { contactPoints } = await gql('{ contactPoints { name template } }');
    expect(contactPoints).toContainEqual({ name: 'Chat', template });
  });

  it('should fit the preview in a 390 px window', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 390, height: 900 });
    await page.goto(`${suite.server.url}/alerts/routing`);
    await page.getByRole('button', { name: 'Edit Chat' }).click();
    const form = page.getByRole('form', { name: 'Edit “Chat”' });
    expect(await form.getByLabel('Message template').inputValue()).toBe('*{{ alerts[0].rule.name }}* for team {{ alerts[0].labels.team }}');
    await form.getByLabel('Preview with').focus();
    await form.getByLabel('Preview with').selectOption({ label: 'Hostile label on checkout (firing)' });
    await form.getByRole('button', { name: 'Preview' }).click();
    await form.locator('[data-preview="text"]').getByText('*Hostile label* for team').waitFor();
    await form.locator('[data-preview="text"]').scrollIntoViewIfNeeded();
    await suite.browser.screenshot('contact-point-preview-390');
    expect(await fitsWindow(), 'preview at 390 px').toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
