/** Relay-style cursors and page sizes shared by every connection. */
import { badInput } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, { field: 'first' });
  }
  return first;
}

/** A cursor names the row it follows: its sort time (as a fallback if it is deleted) and id. */
export interface CursorPosition {
  time: string;
  id: string;
}

export function encodeCursor(time: Date, id: string): string {
  return Buffer.from(JSON.stringify([time.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof time === 'string' && !Number.isNaN(Date.parse(time)) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) {
      return { time, id };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput('Invalid cursor', { field: 'after' });
}
