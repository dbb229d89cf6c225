/**
 * Opaque global ids for `node(id:)`: base64url of `Type:uuid`. Clients must treat them as
 * opaque; a malformed id or one of the wrong type is BAD_USER_INPUT.
 */
import { badInput } from './errors.js';

export type NodeType = 'User' | 'Workflow' | 'Task' | 'AlertRule' | 'Alert' | 'ApiToken' | 'AuditEntry' | 'Incident' | 'ContactPoint' | 'WorkflowTemplate' | 'Schedule'
  | 'NotificationRoute' | 'Silence' | 'MaintenanceWindow' | 'InhibitionRule';
const NODE_TYPES = new Set<string>(['User', 'Workflow', 'Task', 'AlertRule', 'Alert', 'ApiToken', 'AuditEntry', 'Incident', 'ContactPoint', 'WorkflowTemplate', 'Schedule',
  'NotificationRoute', 'Silence', 'MaintenanceWindow', 'InhibitionRule']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toGlobalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64url');
}

export function parseGlobalId(globalId: string): { type: NodeType; id: string } {
  const decoded = globalId.length <= 200 ? Buffer.from(globalId, 'base64url').toString('utf8') : '';
  const separator = decoded.indexOf(':');
  const type = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  if (separator < 0 || !NODE_TYPES.has(type) || !UUID.test(id)) throw badInput(`Invalid id "${globalId.slice(0, 80)}"`);
  return { type: type as NodeType, id };
}

/** "a Task", "an Alert" */
const withArticle = (type: NodeType): string => `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type}`;

/** The database id inside a global id that must be of `type`. */
export function idOf(type: NodeType, globalId: string): string {
  const parsed = parseGlobalId(globalId);
  if (parsed.type !== type) throw badInput(`Expected ${withArticle(type)} id, got ${withArticle(parsed.type)} id`);
  return parsed.id;
}
