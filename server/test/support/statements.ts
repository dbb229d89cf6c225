/** Counts the SQL statements the app sends while `work` runs (every pool connection). */
import type { App } from '../../src/app/start.js';

export async function countStatements(app: App, work: () => Promise<unknown>): Promise<{ count: number; sql: string[] }> {
  const knex = app.orm.em.getConnection().getKnex();
  const sql: string[] = [];
  const listener = (query: { sql: string }) => sql.push(query.sql);
  knex.on('query', listener);
  try {
    await work();
  } finally {
    knex.removeListener('query', listener);
  }
  return { count: sql.length, sql };
}
