/** Per-request batch loaders for users. */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import type { User } from './entity.js';
import { usersByIds } from './rows.js';

export function createUserLoaders(em: Queryable) {
  return {
    userById: new DataLoader<string, User | null>((ids) => usersByIds(em, ids)),
  };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
