/**
 * `GET /api/export/<list>.csv` and `.json`: a whole list, streamed. Rows are read a page at a
 * time through the same service call as the GraphQL field behind the list (same visibility,
 * filters and cursors), and each page is written before the next is read, waiting for the
 * client to drain: an export of a million rows holds one page in memory, and a client that
 * leaves stops it. Filters are query parameters; a bad one, or a caller the field refuses,
 * gets the field's error before the first byte.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { AppError, badInput, HTTP_STATUS_OF, nulRefusal } from '../core/errors.js';
import { idOf, type NodeType } from '../core/ids.js';
import type { Queryable } from '../db/read-routing.js';
import { sendJson } from './replies.js';

type Value = unknown;

/** One exportable list: its columns, and its rows page by page for the filters in `params`. */
export interface ExportList {
  columns: string[];
  pages(params: URLSearchParams): AsyncIterable<object[]>;
  /** the download's name without its extension, once the first page is read; default: the list's name */
  filename?(params: URLSearchParams): string;
}

export type ExportFormat = 'csv' | 'json';

/** One page of a Relay connection, after a cursor. */
export type ConnectionPage<T> = (after: string | null) => Promise<{ edges: Array<{ node: T }>; pageInfo: { hasNextPage: boolean; endCursor?: string | null } }>;

/** A Relay connection read to its end, a page at a time. */
export async function* connectionPages<T>(page: ConnectionPage<T>): AsyncIterable<T[]> {
  let after: string | null = null;
  for (;;) {
    const connection = await page(after);
    yield connection.edges.map((edge) => edge.node);
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) return;
    after = connection.pageInfo.endCursor;
  }
}

/** A list without filters read through its Relay connection to its end, each node made a row (e.g. global ids). */
export function connectionExport<T>(columns: string[], page: ConnectionPage<T>, row: (node: T) => object): ExportList {
  return {
    columns,
    async *pages() {
      for await (const nodes of connectionPages(page)) yield nodes.map(row);
    },
  };
}

/**
 * Rows read by keyset, a page of `size` at a time: `page(last)` returns the rows after `last`
 * (the previous page's last row; null: from the start), in the list's order, at most `size`.
 */
export async function* keysetPages<R>(page: (last: R | null) => Promise<R[]>, size: number): AsyncIterable<R[]> {
  let last: R | null = null;
  for (;;) {
    const rows = await page(last);
    if (rows.length) yield rows;
    if (rows.length < size) return;
    last = rows[rows.length - 1];
  }
}

/** A parent's child rows, newest first by `key` (a column unique per parent), a page of `size` at a time. */
export function newestChildren<T>(db: Queryable, child: { table: string; parentColumn: string; key: string; keyOf: (row: T) => unknown; fromRow: (row: Record<string, any>) => T }, parentId: string, size: number): AsyncIterable<T[]> {
  const { table, parentColumn, key, keyOf, fromRow } = child;
  return keysetPages(async (last: T | null) => {
    const rows = await db.execute(
      `select * from ${table} where ${parentColumn} = ? ${last ? `and ${key} < ?` : ''} order by ${key} desc limit ?`,
      last ? [parentId, keyOf(last), size] : [parentId, size],
    );
    return rows.map(fromRow);
  }, size);
}

/** A bounded list (a field answering at most a few hundred items) as one page, each item made a row. */
export function listExport<T>(columns: string[], list: (params: URLSearchParams) => Promise<T[]>, row: (item: T) => object = (item) => item as object): ExportList {
  return {
    columns,
    async *pages(params) {
      yield (await list(params)).map(row);
    },
  };
}

/** The global id parameter `name` of a `type` (the parent of a child list): required, decoded. */
export function parentId(params: URLSearchParams, name: string, type: NodeType): string {
  const id = params.get(name);
  if (!id) throw badInput(`${name}: which ${type} to export`, { field: name });
  try {
    return idOf(type, id);
  } catch (error) {
    throw badInput(`${name}: ${(error as Error).message}`, { field: name });
  }
}

/** The date-time parameter `name` (ISO 8601); null when not given. */
export function dateParam(params: URLSearchParams, name: string): Date | null {
  const given = params.get(name);
  if (given === null || given === '') return null;
  const value = new Date(given);
  if (Number.isNaN(value.getTime())) throw badInput(`${name}: not a date-time (ISO 8601, e.g. 2026-12-01T00:00:00Z)`, { field: name });
  return value;
}

/** A comma-separated list parameter whose values must be among `allowed` (an enum's). */
export function enumList<T extends string>(params: URLSearchParams, name: string, allowed: Record<string, T>): T[] | null {
  const given = params.get(name);
  if (given === null || given === '') return null;
  const values = given.split(',').map((v) => v.trim());
  const unknown = values.filter((v) => !Object.values(allowed).includes(v as T));
  if (unknown.length) throw badInput(`${name}: unknown value ${unknown[0]}; one of ${Object.values(allowed).join(', ')}`, { field: name });
  return values as T[];
}

const text = (value: Value): string => (value instanceof Date ? value.toISOString() : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? ''));

/**
 * One CSV field (RFC 4180). A text that a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR at the start) is prefixed with an apostrophe: exported data is client-written.
 */
export function csvField(value: Value): string {
  let field = text(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(field)) field = `'${field}`;
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

export async function sendExport(res: ServerResponse, name: string, list: ExportList, format: ExportFormat, params: URLSearchParams): Promise<void> {
  const pages = list.pages(params)[Symbol.asyncIterator]();
  let next: IteratorResult<object[]>;
  try {
    // PostgreSQL cannot store or compare NUL: refused here, as GraphQL variables are, not left to a 500.
    for (const [name, value] of params) {
      const refusal = nulRefusal(value);
      if (refusal) throw badInput(`${name}: ${refusal.message}`, { field: name });
    }
    next = await pages.next();
  } catch (error) {
    const code = error instanceof AppError ? String(error.extensions.code) : '';
    if (!(error instanceof AppError) || !(code in HTTP_STATUS_OF)) throw error;
    return sendJson(res, HTTP_STATUS_OF[code], { errors: [{ message: error.message, extensions: error.extensions }] });
  }
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="${list.filename?.(params) ?? name}.${format}"`,
    'cache-control': 'no-store',
  });
  let left = false;
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve(void (left = true))));
  const write = async (chunk: string) => {
    if (!left && !res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
  };
  let first = true;
  await write(format === 'csv' ? `${list.columns.join(',')}\r\n` : '[');
  try {
    while (!next.done && !left) {
      const chunk = (next.value as Array<Record<string, Value>>).map((row) => {
        if (format === 'csv') return `${list.columns.map((column) => csvField(row[column])).join(',')}\r\n`;
        const line = `${first ? '\n' : ',\n'}${JSON.stringify(Object.fromEntries(list.columns.map((column) => [column, row[column] ?? null])))}`;
        first = false;
        return line;
      }).join('');
      if (chunk) await write(chunk);
      if (left) break;
      next = await pages.next();
    }
  } catch (error) {
    // The status is sent: a cut connection is the only way left to say the export is incomplete.
    res.destroy();
    throw error;
  } finally {
    if (left) await pages.return?.(undefined);
  }
  if (!left) res.end(format === 'csv' ? '' : '\n]\n');
}
