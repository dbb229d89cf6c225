/**
 * The capacity forecast: when a metric reaches its alert threshold if it keeps its trend.
 *
 * The trend is the least-squares line through the metric's hourly means over the report's
 * period (x: days before the end of the period, each hour at its middle; y: the hour's mean).
 * `daysUntilThreshold` is where that line meets the threshold, counted from the end of the
 * period: 0 when the newest hour already breaks it (or the line is past it), null when the
 * line heads away from it or is flat, or fewer than `MIN_HOURS` hours were measured.
 */

export const MIN_HOURS = 3;

export interface HourlyMean {
  /** start of the hour, ms */
  hour: number;
  value: number;
}

export type Direction = 'up' | 'down';

/** The line y = intercept + slope·x (x in days from `end`) that minimizes the squared error. */
export function leastSquares(points: HourlyMean[], end: number): { intercept: number; slope: number } | null {
  if (points.length < 2) return null;
  const xs = points.map((p) => (p.hour + 1_800_000 - end) / 86_400_000);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = points.reduce((a, p) => a + p.value, 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - meanX) * (points[i].value - meanY);
    sxx += (x - meanX) ** 2;
  });
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { intercept: meanY - slope * meanX, slope };
}

/**
 * Days from `end` until the trend of `points` (oldest first) reaches `threshold` going `direction`
 * ('up' for rules that fire above it, 'down' below). `breaks` says whether a value breaks it.
 */
export function daysUntilThreshold(points: HourlyMean[], end: number, threshold: number, direction: Direction, breaks: (value: number) => boolean): number | null {
  if (points.length < MIN_HOURS) return null;
  if (breaks(points[points.length - 1].value)) return 0;
  const line = leastSquares(points, end);
  if (!line || line.slope === 0 || (line.slope > 0) !== (direction === 'up')) return null;
  return Math.max(0, (threshold - line.intercept) / line.slope);
}
