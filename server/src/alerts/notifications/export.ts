/**
 * The contact points as an export (`/api/export/contact-points.csv`): the `contactPoints` field,
 * oldest first, every signed-in user, settings with their secrets redacted as the field shows them.
 */
import type { Context } from '../../app/context.js';
import { toGlobalId } from '../../core/ids.js';
import { listExport, type ExportList } from '../../http/export.js';
import { listContactPoints } from './contact-points.js';

export const contactPointExport = (ctx: Context): ExportList => listExport(
  ['id', 'name', 'kind', 'enabled', 'settings'],
  () => listContactPoints(ctx),
  (point) => ({ ...point, id: toGlobalId('ContactPoint', point.id) }),
);
