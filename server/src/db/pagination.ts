/** Relay-style cursors and page sizes shared by every connection. */
import type { Queryable } from './read-routing.js';
import { badInput } from '../core/errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A list's `first`: 1 to `max`, `fallback` when unset, else BAD_USER_INPUT naming first. */
export function pageSize(first: number | null | undefined, fallback = DEFAULT_PAGE_SIZE, max = MAX_PAGE_SIZE): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(`first must be 1 to ${max}`, { field: 'first' });
  }
  return first;
}

/** The paged lists. A cursor carries its list's name, so one list refuses another's cursor. */
const LISTS = ['workflows', 'alerts', 'audit', 'incidents', 'templates', 'schedules'] as const;
export type ListName = (typeof LISTS)[number];

/** A cursor names the row it follows: its sort time (as a fallback if it is deleted) and id. */
export interface CursorPosition {
  time: string;
  id: string;
}

export function encodeCursor(list: ListName, time: Date, id: string): string {
  return Buffer.from(JSON.stringify([list, time.toISOString(), id])).toString('base64url');
}

export function decodeCursor(list: ListName, cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // not JSON: the error below
  }
  const [tag, time, id] = Array.isArray(parsed) && parsed.length === 3 ? parsed : [];
  if (LISTS.includes(tag) && typeof time === 'string' && !Number.isNaN(Date.parse(time)) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) {
    if (tag !== list) throw badInput(`after is a cursor of ${tag}, not of ${list}`, { field: 'after' });
    return { time, id };
  }
  throw badInput('Invalid cursor', { field: 'after' });
}

export interface KeysetQuery {
  table: string;
  /** the sort column; rows go newest first by (it, id) */
  timeColumn: string;
  /** SQL conditions with `?` placeholders, and their parameters */
  filters: string[];
  params: unknown[];
  first: number;
  after: CursorPosition | null;
  /** false when nobody reads the total (a count over every match is the dearest part of a page) */
  count?: boolean;
}

/** One page newest first, one row past it (so `hasNextPage` is known), and the total count of matches (null when not asked for). */
export async function keysetPage(em: Queryable, q: KeysetQuery): Promise<{ rows: Array<Record<string, any>>; total: number | null; hasNextPage: boolean }> {
  const where = q.filters.length ? `where ${q.filters.join(' and ')}` : '';
  const pageFilters = [...q.filters];
  const pageParams = [...q.params];
  if (q.after) {
    // The cursor row's exact time is read back, since JS dates drop PostgreSQL's microseconds.
    pageFilters.push(`(${q.timeColumn}, id) < (coalesce((select ${q.timeColumn} from ${q.table} where id = ?), ?::timestamptz), ?)`);
    pageParams.push(q.after.id, q.after.time, q.after.id);
  }
  const pageWhere = pageFilters.length ? `where ${pageFilters.join(' and ')}` : '';
  const [rows, total] = await Promise.all([
    em.execute(`select * from ${q.table} ${pageWhere} order by ${q.timeColumn} desc, id desc limit ?`, [...pageParams, q.first + 1]),
    q.count === false ? null : em.execute(`select count(*)::int as total from ${q.table} ${where}`, q.params).then((counted) => counted[0].total as number),
  ]);
  return { rows: rows.slice(0, q.first), total, hasNextPage: rows.length > q.first };
}

/** A Relay connection of `nodes`, each cursor naming its node's sort time and id. */
export function connectionOf<T extends { id: string }>(
  list: ListName, nodes: T[], timeOf: (node: T) => Date, page: { total: number | null; hasNextPage: boolean }, after: CursorPosition | null,
) {
  const edges = nodes.map((node) => ({ cursor: encodeCursor(list, timeOf(node), node.id), node }));
  return {
    edges,
    totalCount: page.total,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
