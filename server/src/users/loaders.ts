/** Per-request batch loaders for users. */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, indexBy, toDate, uuidArray } from '../db/sql.js';
import { User, type Role } from './entity.js';

export function userFromRow(row: Record<string, any>): User {
  return asInstance<User, 'passwordHash'>(User, { id: row.id, email: row.email, name: row.name, role: row.role as Role, createdAt: toDate(row.created_at) });
}

export function createUserLoaders(em: Queryable) {
  return {
    userById: new DataLoader<string, User | null>(async (ids) => {
      const rows = await em.execute('select id, email, name, role, created_at from users where id = any(?::uuid[])', [uuidArray(ids)]);
      return indexBy(ids, rows.map(userFromRow), (u) => u.id);
    }),
  };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
