/**
 * Every ORM entity, for opening the database (`startApp`, `npm run migrate`). Here, in the
 * wiring, because db/ must not import a domain.
 */
import { EventRecord } from '../live/event-log.js';
import { ApiToken, Session, User } from '../users/entity.js';
import { Workflow } from '../workflows/entity.js';
import { Task, TaskDependency } from '../workflows/task-entity.js';

export const ENTITIES = [User, Session, ApiToken, Workflow, Task, TaskDependency, EventRecord];
