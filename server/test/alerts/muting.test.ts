/**
 * Silences, maintenance windows and inhibition rules against a real receiver: muted alerts
 * still open and show as muted, are not notified, and are notified once the mute ends while
 * they still fire. Plus the refusals of each input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;
let receiver: HttpReceiver;
let member: string;
let viewer: string;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  server = await startTestServer({
    ALERT_EVAL_INTERVAL_SECONDS: '1', ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0', ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1', ALERT_WEBHOOK_URL: `${receiver.url}/hook`,
  });
  member = (await server.newUser('MEMBER')).token;
  viewer = (await server.newUser('VIEWER')).token;
});
afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

const SILENCE = 'id matchers { label op value } startsAt endsAt comment createdBy { email } active';
const WINDOW = 'id name matchers { label op value } cron durationMinutes timezone activeNow nextStartsAt';
const INHIBITION = 'id source { label op value } target { label op value } equal';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function newRule(name: string, severity = 'HIGH') {
  const metric = `metric_${name.replace(/\W/g, '_')}`;
  const { createAlertRule } = await server.gqlOk('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
    input: { name, metric, comparator: '>', threshold: 0, severity },
  }, server.adminToken);
  return { id: createAlertRule.id as string, metric };
}
const push = (metric: string, service: string, value = 1) =>
  server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: metric, service, value }] }, member);
const heard = (rule: string, service?: string) => receiver.received.map((r) => JSON.parse(r.body))
  .filter((m) => m.alerts.some((a: any) => a.rule.name === rule && (!service || a.service === service)));
async function openAlert(ruleId: string, service?: string) {
  const { alerts } = await server.gqlOk(`{ alerts(first: 100) { edges { node { id status service inhibited rule { id } silencedBy { id comment } } } } }`, {}, viewer);
  return alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.id === ruleId && a.status !== 'RESOLVED' && (!service || a.service === service));
}

/**
 * The same refusal through the update mutation: a standing item (made once per list) is left
 * exactly as it was (item 9: nothing half-saved).
 */
const standing: Record<string, string> = {};
async function refusedUpdate(list: string, fields: string, mutation: string, inputType: string, token: string, good: Record<string, unknown>, bad: Record<string, unknown>, field: string) {
  const create = `create${mutation.slice('update'.length)}`;
  standing[list] ??= (await server.gqlOk(`mutation ($input: ${inputType}!) { ${create}(input: $input) { id } }`, { input: good }, token))[create].id;
  const read = async () => (await server.gqlOk(`{ ${list} { ${fields} } }`, {}, viewer))[list].find((item: { id: string }) => item.id === standing[list]);
  const before = await read();
  const result = await server.gql(`mutation ($id: ID!, $input: ${inputType}!) { ${mutation}(id: $id, input: $input) { id } }`, { id: standing[list], input: { ...good, ...bad } }, token);
  expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(await read()).toEqual(before);
}

describe('silences', () => {
  it('should mute a firing alert that still shows, and notify it once the silence expires while it fires', async () => {
    const rule = await newRule('silenced');
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const { createSilence: silence } = await server.gqlOk(`mutation ($input: SilenceInput!) { createSilence(input: $input) { ${SILENCE} } }`, {
      input: { matchers: [{ label: 'rule', op: '=~', value: 'silen.*' }], endsAt, comment: 'known: deploy in progress' },
    }, member);
    expect(silence).toMatchObject({ active: true, comment: 'known: deploy in progress', createdBy: { email: expect.stringContaining('member') }, endsAt });

    await push(rule.metric, 'api');
    const alert = await waitFor('the alert firing', async () => ((await openAlert(rule.id))?.status === 'FIRING' ? openAlert(rule.id) : null));
    expect(alert.silencedBy).toEqual([{ id: silence.id, comment: 'known: deploy in progress' }]);
    await pause(3000);
    expect(heard('silenced')).toEqual([]);
    expect((await server.gqlOk('{ silences(active: true) { id } }', {}, viewer)).silences.map((s: any) => s.id)).toContain(silence.id);

    const { expireSilence } = await server.gqlOk(`mutation ($id: ID!) { expireSilence(id: $id) { ${SILENCE} } }`, { id: silence.id }, member);
    expect(expireSilence.active).toBe(false);
    await waitFor('the message once the silence ended', async () => heard('silenced').length === 1);
    expect(heard('silenced')[0]).toMatchObject({ event: 'FIRING', reason: 'first' });
    expect((await openAlert(rule.id)).silencedBy).toEqual([]);
    expect((await server.gqlOk('{ silences(active: false) { id } }', {}, viewer)).silences.map((s: any) => s.id)).toContain(silence.id);
    const again = await server.gql('mutation ($id: ID!) { expireSilence(id: $id) { id } }', { id: silence.id }, member);
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('should end by itself, and a silence made after the message forgets the alert so its end speaks again', async () => {
    const rule = await newRule('self-ending');
    await push(rule.metric, 'api');
    await waitFor('the first message', async () => heard('self-ending').length === 1);
    await server.gqlOk('mutation ($input: SilenceInput!) { createSilence(input: $input) { id } }', {
      input: { matchers: [{ label: 'rule', op: '=', value: 'self-ending' }], endsAt: new Date(Date.now() + 4000).toISOString(), comment: 'short' },
    }, member);
    await pause(2500);
    expect(heard('self-ending')).toHaveLength(1);
    await waitFor('a message after the silence ended', async () => heard('self-ending').length === 2, 10_000);
    expect(heard('self-ending')[1]).toMatchObject({ event: 'FIRING', reason: 'first' });
  });

  it.each([
    [{ matchers: [] }, 'matchers'],
    [{ matchers: [{ label: 'service', op: '=~', value: '.*' }] }, 'matchers'],
    [{ matchers: [{ label: 'service', op: '=~', value: '[' }] }, 'matchers.0.value'],
    [{ matchers: [{ label: 'service', op: '==', value: 'x' }] }, 'matchers.0.op'],
    [{ endsAt: new Date(Date.now() - 60_000).toISOString() }, 'endsAt'],
    [{ startsAt: new Date(Date.now() + 7_200_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() }, 'endsAt'],
    [{ endsAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'endsAt'],
    [{ comment: '   ' }, 'comment'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (input, field) => {
    const before = (await server.gqlOk('{ silences { id } }', {}, viewer)).silences;
    const result = await server.gql('mutation ($input: SilenceInput!) { createSilence(input: $input) { id } }', {
      input: { matchers: [{ label: 'service', op: '=', value: 'x' }], endsAt: new Date(Date.now() + 60_000).toISOString(), comment: 'c', ...input },
    }, member);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await server.gqlOk('{ silences { id } }', {}, viewer)).silences).toEqual(before);
    await refusedUpdate('silences', SILENCE, 'updateSilence', 'SilenceInput', member,
      { matchers: [{ label: 'service', op: '=', value: 'standing' }], endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'c' }, input, field);
  });

  it('should let viewers read but not silence', async () => {
    const result = await server.gql('mutation ($input: SilenceInput!) { createSilence(input: $input) { id } }', {
      input: { matchers: [{ label: 'service', op: '=', value: 'x' }], endsAt: new Date(Date.now() + 60_000).toISOString(), comment: 'c' },
    }, viewer);
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('maintenance windows', () => {
  it('should mute matching alerts while the window is open and notify once it is gone', async () => {
    // Opens every minute for 5 minutes: always open.
    const { createMaintenanceWindow: window } = await server.gqlOk(`mutation ($input: MaintenanceWindowInput!) { createMaintenanceWindow(input: $input) { ${WINDOW} } }`, {
      input: { name: 'nightly batch', matchers: [{ label: 'service', op: '=', value: 'batch' }], cron: '* * * * *', durationMinutes: 5, timezone: 'Europe/Berlin' },
    }, server.adminToken);
    expect(window).toMatchObject({ activeNow: true, timezone: 'Europe/Berlin', nextStartsAt: expect.any(String) });
    const rule = await newRule('windowed');
    await push(rule.metric, 'batch');
    await push(rule.metric, 'web');
    await waitFor('the alert outside the window notified', async () => heard('windowed', 'web').length === 1);
    await pause(2000);
    expect(heard('windowed', 'batch')).toEqual([]);
    expect((await openAlert(rule.id, 'batch')).status).toBe('FIRING');

    const { updateMaintenanceWindow } = await server.gqlOk(`mutation ($id: ID!, $input: MaintenanceWindowInput!) { updateMaintenanceWindow(id: $id, input: $input) { ${WINDOW} } }`, {
      id: window.id, input: { name: 'yearly', matchers: [{ label: 'service', op: '=', value: 'batch' }], cron: '0 3 1 1 *', durationMinutes: 60 },
    }, server.adminToken);
    expect(updateMaintenanceWindow).toMatchObject({ name: 'yearly', timezone: 'UTC', activeNow: new Date().getUTCMonth() === 0 && new Date().getUTCDate() === 1 && new Date().getUTCHours() === 3 });
    if (!updateMaintenanceWindow.activeNow) await waitFor('the alert notified once the window closed', async () => heard('windowed', 'batch').length === 1);
    await server.gqlOk('mutation ($id: ID!) { deleteMaintenanceWindow(id: $id) }', { id: window.id }, server.adminToken);
    expect((await server.gql('mutation ($id: ID!) { deleteMaintenanceWindow(id: $id) }', { id: window.id }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it.each([
    [{ cron: '0 0 30 2 *' }, 'cron'],
    [{ cron: 'every night' }, 'cron'],
    [{ cron: '0 0 * * * *' }, 'cron'],
    [{ cron: '99 0 * * *' }, 'cron'],
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ durationMinutes: 0 }, 'durationMinutes'],
    [{ durationMinutes: 100_000 }, 'durationMinutes'],
    [{ matchers: [] }, 'matchers'],
    [{ name: '' }, 'name'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (input, field) => {
    const before = (await server.gqlOk('{ maintenanceWindows { id } }', {}, viewer)).maintenanceWindows;
    const result = await server.gql('mutation ($input: MaintenanceWindowInput!) { createMaintenanceWindow(input: $input) { id } }', {
      input: { name: 'w', matchers: [{ label: 'service', op: '=', value: 'x' }], cron: '0 2 * * 0', durationMinutes: 60, ...input },
    }, server.adminToken);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await server.gqlOk('{ maintenanceWindows { id } }', {}, viewer)).maintenanceWindows).toEqual(before);
    await refusedUpdate('maintenanceWindows', WINDOW, 'updateMaintenanceWindow', 'MaintenanceWindowInput', server.adminToken,
      { name: 'standing', matchers: [{ label: 'service', op: '=', value: 'x' }], cron: '0 2 * * 0', durationMinutes: 60 }, input, field);
    expect((await server.gql('mutation ($input: MaintenanceWindowInput!) { createMaintenanceWindow(input: $input) { id } }', {
      input: { name: 'w', matchers: [{ label: 'service', op: '=', value: 'x' }], cron: '0 2 * * 0', durationMinutes: 60 },
    }, member)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('inhibition rules', () => {
  it('should have the default "a component down mutes the other alerts of that service"', async () => {
    const { inhibitionRules } = await server.gqlOk(`{ inhibitionRules { ${INHIBITION} } }`, {}, viewer);
    expect(inhibitionRules).toContainEqual(expect.objectContaining({
      source: [{ label: 'metric', op: '=', value: 'component_up' }], target: [{ label: 'metric', op: '!=', value: 'component_up' }], equal: ['service'],
    }));
  });

  it('should save the default rule back unchanged through an edit (its target matches an empty label)', async () => {
    const { inhibitionRules } = await server.gqlOk(`{ inhibitionRules { ${INHIBITION} } }`, {}, viewer);
    const builtIn = inhibitionRules.find((rule: { equal: string[]; source: Array<{ value: string }> }) => rule.equal.join() === 'service' && rule.source[0]?.value === 'component_up');
    const input = { source: builtIn.source, target: builtIn.target, equal: builtIn.equal };
    const { updateInhibitionRule } = await server.gqlOk(`mutation ($id: ID!, $input: InhibitionRuleInput!) { updateInhibitionRule(id: $id, input: $input) { ${INHIBITION} } }`, {
      id: builtIn.id, input,
    }, server.adminToken);
    expect(updateInhibitionRule).toEqual(builtIn);
    expect((await server.gqlOk(`{ inhibitionRules { ${INHIBITION} } }`, {}, viewer)).inhibitionRules).toContainEqual(builtIn);
  });

  it('should mute targets of the same service while a source fires, and notify them once it resolves', async () => {
    const { createInhibitionRule: rule } = await server.gqlOk(`mutation ($input: InhibitionRuleInput!) { createInhibitionRule(input: $input) { ${INHIBITION} } }`, {
      input: { source: [{ label: 'rule', op: '=', value: 'upstream down' }], target: [{ label: 'severity', op: '=~', value: 'HIGH|MEDIUM' }], equal: ['service'] },
    }, server.adminToken);
    const source = await newRule('upstream down', 'CRITICAL');
    const target = await newRule('downstream slow', 'HIGH');
    await push(source.metric, 'checkout');
    await waitFor('the source notified', async () => heard('upstream down').length === 1);
    await push(target.metric, 'checkout');
    await push(target.metric, 'search');
    await waitFor('the other service notified', async () => heard('downstream slow', 'search').length === 1);
    await pause(2000);
    expect(heard('downstream slow', 'checkout')).toEqual([]);
    expect(await openAlert(target.id, 'checkout')).toMatchObject({ status: 'FIRING', inhibited: true });
    expect(await openAlert(target.id, 'search')).toMatchObject({ inhibited: false });
    expect(await openAlert(source.id, 'checkout')).toMatchObject({ inhibited: false });

    await push(source.metric, 'checkout', 0);
    await waitFor('the target notified once the source resolved', async () => heard('downstream slow', 'checkout').length === 1);
    expect((await openAlert(target.id, 'checkout')).inhibited).toBe(false);
    const { updateInhibitionRule } = await server.gqlOk(`mutation ($id: ID!, $input: InhibitionRuleInput!) { updateInhibitionRule(id: $id, input: $input) { ${INHIBITION} } }`, {
      id: rule.id, input: { source: [{ label: 'rule', op: '=', value: 'upstream down' }], target: [{ label: 'severity', op: '=', value: 'LOW' }] },
    }, server.adminToken);
    expect(updateInhibitionRule).toMatchObject({ target: [{ label: 'severity', op: '=', value: 'LOW' }], equal: [] });
    await server.gqlOk('mutation ($id: ID!) { deleteInhibitionRule(id: $id) }', { id: rule.id }, server.adminToken);
  });

  it.each([
    [{ source: [] }, 'source'],
    [{ source: [{ label: 'x', op: '!=', value: 'y' }] }, 'source'],
    [{ target: [] }, 'target'],
    [{ target: [{ label: 'x', op: '=~', value: '*' }] }, 'target.0.value'],
    [{ equal: ['service', 'bad label'] }, 'equal.1'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (input, field) => {
    const before = (await server.gqlOk('{ inhibitionRules { id } }', {}, viewer)).inhibitionRules;
    const result = await server.gql('mutation ($input: InhibitionRuleInput!) { createInhibitionRule(input: $input) { id } }', {
      input: { source: [{ label: 'a', op: '=', value: 'b' }], target: [{ label: 'c', op: '=', value: 'd' }], ...input },
    }, server.adminToken);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await server.gqlOk('{ inhibitionRules { id } }', {}, viewer)).inhibitionRules).toEqual(before);
    await refusedUpdate('inhibitionRules', INHIBITION, 'updateInhibitionRule', 'InhibitionRuleInput', server.adminToken,
      { source: [{ label: 'a', op: '=', value: 'standing' }], target: [{ label: 'c', op: '=', value: 'd' }] }, input, field);
  });
});
