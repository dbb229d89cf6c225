/**
 * The weekly report mail: at each REPORT_CRON slot (read in REPORT_TIMEZONE) the operations
 * report of the period since the slot before goes to REPORT_EMAIL_TO. Every replica looks every
 * SCHEDULER_INTERVAL_MS; the one whose insert of the slot's `report_mails` row wins sends it, so
 * a slot is mailed once across replicas. A send that failed is claimed again (by any replica)
 * REPORT_RETRY_SECONDS later, one whose replica died mid-way after `LEASE_MS`, at most
 * `MAX_ATTEMPTS` times in all; a replica asks about a slot it has tried once per wait, not every
 * look. A slot more than `CATCH_UP_MS` old (every replica was down) is not mailed.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppServices } from '../app/context.js';
import { repeat } from '../core/repeat.js';
import { truncate } from '../core/text.js';
import type { EntityManager } from '../db/orm.js';
import { lastSlotAtOrBefore } from '../schedules/cron.js';
import { buildOperationsReport, MAX_REPORT_DAYS } from './service.js';
import type { OperationsReport } from './types.js';

const LEASE_MS = 10 * 60_000;
const MAX_ATTEMPTS = 5;
const CATCH_UP_MS = 24 * 3_600_000;
const SEND_TIMEOUT_MS = 10_000;

const when = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const fixed = (value: number | null, unit: string, digits = 1) => (value === null ? 'no data' : `${value.toFixed(digits)}${unit}`);
const duration = (seconds: number | null) => (seconds === null ? 'none' : seconds < 120 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(0)} min`);

/** The mail's subject and plain text. */
export function reportMail(report: OperationsReport): { subject: string; text: string } {
  const trend = report.p95TrendPercent === null ? '' : ` (${report.p95TrendPercent >= 0 ? '+' : ''}${report.p95TrendPercent.toFixed(1)} % against the period before)`;
  const lines = [
    `Operations report, ${when(report.from)} – ${when(report.to)}`,
    '',
    `Error rate: ${fixed(report.errorRatePercent, ' %', 2)}`,
    `p95 response time: ${fixed(report.p95Ms, ' ms')}${trend}`,
    `Alerts fired: ${report.alertsOpened} (mean time to acknowledge ${duration(report.meanTimeToAcknowledgeSeconds)}, to resolve ${duration(report.meanTimeToResolveSeconds)})`,
    `Disk: ${fixed(report.diskPercent, ' %')}`,
    `Workflows: ${report.workflowsSucceeded} succeeded, ${report.workflowsFailed} failed`,
    '',
    'Capacity (days until the alert threshold at the current trend):',
    ...(report.capacity.length ? report.capacity.map((c) => `  ${c.metric} (${c.service}): ${c.current.toFixed(1)} now, threshold ${c.threshold} — ${c.daysUntilThreshold === null ? 'not heading there' : `${c.daysUntilThreshold.toFixed(1)} days`}`) : ['  no data']),
    '',
    'Slowest statements (mean):',
    ...(report.slowQueries.length ? report.slowQueries.map((q) => `  ${q.meanMs.toFixed(1)} ms × ${q.calls}  ${truncate(q.query.replace(/\s+/g, ' '), 200)}`) : ['  none (pg_stat_statements is not available)']),
  ];
  return { subject: `Operations report ${report.from.toISOString().slice(0, 10)} to ${report.to.toISOString().slice(0, 10)}`, text: `${lines.join('\n')}\n` };
}

/** Claims `slot` for this replica: true when it is this replica's to send. */
async function claim(em: EntityManager, slot: Date, from: Date): Promise<boolean> {
  const rows = await em.execute(
    `insert into report_mails (slot, period_from) values (?, ?)
     on conflict (slot) do update set claimed_at = now(), attempts = report_mails.attempts + 1
      where report_mails.sent_at is null and report_mails.claimed_at < now() - make_interval(secs => ?) and report_mails.attempts < ?
     returning slot`,
    [slot, from, LEASE_MS / 1000, MAX_ATTEMPTS],
  );
  return rows.length > 0;
}

/** Starts the mail job when REPORT_EMAIL_TO (and so SMTP_URL) is set. */
export function startReportMail(app: AppServices) {
  const { reportEmailTo, smtpUrl, reportCron, reportTimezone, reportRetrySeconds, scheduleSeconds } = app.config;
  if (!reportEmailTo || !smtpUrl) return { async stop() {} };
  const spec = { cron: reportCron, timezone: reportTimezone, seconds: scheduleSeconds };
  let mailer: Transporter | undefined;
  // A slot this replica already tried to claim is asked about again only once a lease has passed.
  let tried = { slot: 0, at: 0 };
  const job = repeat('report-mail', app.config.schedulerIntervalMs, async () => {
    const now = new Date();
    const slot = lastSlotAtOrBefore(spec, now);
    if (!slot || now.getTime() - slot.getTime() > CATCH_UP_MS) return;
    if (tried.slot === slot.getTime() && now.getTime() - tried.at < LEASE_MS) return;
    tried = { slot: slot.getTime(), at: now.getTime() };
    const previous = lastSlotAtOrBefore(spec, new Date(slot.getTime() - 1));
    const from = new Date(Math.max(previous?.getTime() ?? slot.getTime() - 7 * 86_400_000, slot.getTime() - MAX_REPORT_DAYS * 86_400_000));
    const em = app.orm.em.fork() as EntityManager;
    if (!(await claim(em, slot, from))) return;
    try {
      const { subject, text } = reportMail(await buildOperationsReport(em, app.config, from, slot, now));
      mailer ??= nodemailer.createTransport({ url: smtpUrl, connectionTimeout: SEND_TIMEOUT_MS, greetingTimeout: SEND_TIMEOUT_MS, socketTimeout: SEND_TIMEOUT_MS });
      await mailer.sendMail({ from: app.config.alertEmailFrom, to: reportEmailTo, subject, text, headers: { 'X-Report-Slot': slot.toISOString() } });
      await em.execute('update report_mails set sent_at = now(), last_error = null where slot = ?', [slot]);
    } catch (error) {
      // The lease is moved back so the slot can be claimed again in REPORT_RETRY_SECONDS, here or elsewhere.
      const retryMs = Math.min(reportRetrySeconds * 1000, LEASE_MS);
      await em.execute('update report_mails set last_error = ?, claimed_at = now() - make_interval(secs => ?) where slot = ?', [
        truncate((error as Error).message, 500), (LEASE_MS - retryMs) / 1000, slot,
      ]);
      tried = { slot: slot.getTime(), at: Date.now() - LEASE_MS + retryMs };
      throw error;
    }
  }, app);
  return {
    async stop() {
      await job.stop();
      mailer?.close();
    },
  };
}
