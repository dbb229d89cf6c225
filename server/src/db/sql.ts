/** Small helpers for the hand-written SQL on hot paths (loaders, claims, bulk updates). */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A PostgreSQL array literal for `= any(?::uuid[])`. The query builder would otherwise
 * expand a JS array into one placeholder per element.
 */
export function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new Error(`not a uuid: ${id}`);
  return `{${ids.join(',')}}`;
}

/** A text[] literal for values from a closed set (enum names). */
export function enumArray(values: readonly string[]): string {
  for (const value of values) if (!/^[A-Z_]+$/.test(value)) throw new Error(`not an enum value: ${value}`);
  return `{${values.join(',')}}`;
}

/** Groups rows by a key, keeping the order of `keys` (what DataLoader expects). */
export function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}

export function indexBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): (T | null)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/** Raw rows carry timestamps as strings (the ORM's type parsers); resolvers want Dates. */
export function toDate(value: Date | string): Date;
export function toDate(value: Date | string | null | undefined): Date | null;
export function toDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}

/** A text[] literal for `unnest(?::text[])` over arbitrary strings (null stays NULL). */
export function textArray(values: readonly (string | null)[]): string {
  const quote = (v: string) => `"${v.includes('"') || v.includes('\\') ? v.replace(/["\\]/g, '\\$&') : v}"`;
  return `{${values.map((v) => (v === null ? 'NULL' : quote(v))).join(',')}}`;
}

/** A float8[] literal; callers pass finite numbers only. */
export function floatArray(values: readonly number[]): string {
  for (const value of values) if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return `{${values.join(',')}}`;
}

/**
 * A loaded row as an instance of an entity class, for GraphQL only (interfaces resolve their
 * type by `instanceof`). Neither the constructor nor MikroORM's prototype setters run: those
 * build a change-tracking wrapper and define one accessor per field on every row, which was the
 * largest single cost of the workflow list. Such objects are read-only views: never persist them.
 * `Unloaded` names fields the row leaves out on purpose (a user's password hash).
 */
export function asInstance<T extends object, Unloaded extends keyof T = never>(type: abstract new () => T, fields: Omit<T, Unloaded>): T {
  return Object.setPrototypeOf(fields, type.prototype) as T;
}
