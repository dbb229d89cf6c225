/**
 * The operations report as one CSV table (RFC 4180): a row per figure, per capacity forecast and
 * per slow statement, in the columns section, name, service, value, threshold,
 * days_until_threshold, calls. Cells a spreadsheet would run as a formula are prefixed with '.
 */
import type { OperationsReportQuery } from '$lib/graphql/generated/graphql';

type Report = OperationsReportQuery['operationsReport'];
type Cell = string | number | null | undefined;

const HEADER = ['section', 'name', 'service', 'value', 'threshold', 'days_until_threshold', 'calls'];

function cell(value: Cell): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function reportCsv(report: Report): string {
  const figures: Array<[string, Cell]> = [
    ['from', report.from], ['to', report.to], ['errorRatePercent', report.errorRatePercent], ['p95Ms', report.p95Ms],
    ['p95TrendPercent', report.p95TrendPercent], ['alertsOpened', report.alertsOpened],
    ['meanTimeToAcknowledgeSeconds', report.meanTimeToAcknowledgeSeconds], ['meanTimeToResolveSeconds', report.meanTimeToResolveSeconds],
    ['diskPercent', report.diskPercent], ['workflowsSucceeded', report.workflowsSucceeded], ['workflowsFailed', report.workflowsFailed],
  ];
  const rows: Cell[][] = [
    HEADER,
    ...figures.map(([name, value]) => ['summary', name, '', value, '', '', '']),
    ...report.capacity.map((c) => ['capacity', c.metric, c.service, c.current, c.threshold, c.daysUntilThreshold, '']),
    ...report.slowQueries.map((q) => ['slow_query', q.query, '', q.meanMs, '', '', q.calls]),
  ];
  return `${rows.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`;
}
