/**
 * The report mail across two replicas on one database, into a real SMTP server: every
 * REPORT_CRON slot is mailed exactly once, whichever replica claims it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createTestDatabase, sqlOn, type TestDatabase } from '../support/database.js';
import { startSmtpReceiver, type SmtpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { waitFor } from '../support/wait.js';

let database: TestDatabase;
let smtp: SmtpReceiver;
let a: TestServer;
let b: TestServer;

const env = (instance: string) => ({
  INSTANCE_ID: instance,
  SMTP_URL: smtp.url,
  ALERT_EMAIL_TO: 'oncall@test.local',
  REPORT_EMAIL_TO: 'reports@test.local',
  // a slot every 2 s, looked for every 50 ms by both replicas
  SCHEDULE_SECONDS: '1',
  REPORT_CRON: '*/2 * * * * *',
  SCHEDULER_INTERVAL_MS: '50',
});

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpReceiver();
  a = await startTestServer(env('replica-a'), database);
  b = await startTestServer(env('replica-b'), database);
});
afterAll(async () => {
  await a?.app.stop().catch(() => undefined);
  await b?.app.stop().catch(() => undefined);
  await smtp?.close();
  await database?.drop();
});

const sql = (query: string, params: unknown[] = []) => sqlOn(database.url, query, params);
const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1].trim();

describe('the report mail', () => {
  it('should mail each slot once across two replicas, with the report of the period since the slot before', async () => {
    // every 50 ms for 3 s, a replica asks about each slot once (not at every look)
    const claims = await countStatements(a.app, () => new Promise((resolve) => setTimeout(resolve, 3000)));
    expect(claims.sql.filter((statement) => statement.includes('insert into report_mails')).length).toBeLessThanOrEqual(3);
    await waitFor('four slots mailed', async () => (await sql('select count(*)::int as n from report_mails where sent_at is not null'))[0].n >= 4, 30_000);
    await Promise.all([a.app.stop(), b.app.stop()]);
    const sent = await sql('select slot, period_from, attempts, last_error from report_mails where sent_at is not null order by slot');
    const slots = smtp.mails.map((mail) => header(mail.raw, 'X-Report-Slot'));
    // one mail per sent slot, none twice
    expect(new Set(slots).size).toBe(slots.length);
    expect([...slots].sort()).toEqual(sent.map((row: any) => new Date(row.slot).toISOString()));
    for (const row of sent) {
      expect(new Date(row.slot).getTime() - new Date(row.period_from).getTime()).toBe(2000);
      expect([row.attempts, row.last_error]).toEqual([1, null]);
    }
    const [mail] = smtp.mails;
    expect(mail.to).toEqual(['reports@test.local']);
    expect(header(mail.raw, 'Subject')).toMatch(/^Operations report \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$/);
    const body = mail.raw.replace(/=\r?\n/g, '');
    expect(body).toContain('Operations report, ');
    expect(body).toMatch(/Alerts fired: 0 \(mean time to acknowledge none, to resolve none\)/);
    expect(body).toContain('Workflows: 0 succeeded, 0 failed');
  });

  it('should refuse REPORT_EMAIL_TO without SMTP_URL, and a bad REPORT_CRON, at start', () => {
    expect(() => loadConfig({ REPORT_EMAIL_TO: 'a@b.c' })).toThrow('Invalid setting REPORT_EMAIL_TO: needs SMTP_URL');
    expect(() => loadConfig({ REPORT_CRON: '61 8 * * 1' })).toThrow(/^Invalid setting REPORT_CRON: is not a valid cron expression/);
    expect(() => loadConfig({ REPORT_CRON: '*/2 * * * * *' })).toThrow(/^Invalid setting REPORT_CRON/);
    expect(loadConfig({}).reportCron).toBe('0 8 * * 1');
  });
});
