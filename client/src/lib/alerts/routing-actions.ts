/** Alert routing actions: the mutation, then a toast; each returns the server's refusal (null when it worked). */
import { client } from '$lib/graphql/client';
import {
  CreateInhibitionRuleDocument,
  CreateMaintenanceWindowDocument,
  CreateNotificationRouteDocument,
  CreateSilenceDocument,
  DeleteInhibitionRuleDocument,
  DeleteMaintenanceWindowDocument,
  DeleteNotificationRouteDocument,
  ExpireSilenceDocument,
  MoveNotificationRouteDocument,
  type InhibitionRuleInput,
  type MaintenanceWindowInput,
  type NotificationRouteInput,
  type SilenceInput,
} from '$lib/graphql/generated/graphql';
import { refusalOf as run } from '$lib/mutations';

export const createRoute = (input: NotificationRouteInput, position: number | null) =>
  run(client.mutation(CreateNotificationRouteDocument, { input, position }).toPromise(), 'Route added.');
export const moveRoute = (id: string, position: number) => run(client.mutation(MoveNotificationRouteDocument, { id, position }).toPromise(), `Route moved to ${position}.`);
export const deleteRoute = (id: string) => run(client.mutation(DeleteNotificationRouteDocument, { id }).toPromise(), 'Route deleted.');
export const createSilence = (input: SilenceInput) => run(client.mutation(CreateSilenceDocument, { input }).toPromise(), 'Silence created.');
export const expireSilence = (id: string) => run(client.mutation(ExpireSilenceDocument, { id }).toPromise(), 'Silence expired.');
export const createWindow = (input: MaintenanceWindowInput) => run(client.mutation(CreateMaintenanceWindowDocument, { input }).toPromise(), `Maintenance window “${input.name}” added.`);
export const deleteWindow = (id: string) => run(client.mutation(DeleteMaintenanceWindowDocument, { id }).toPromise(), 'Maintenance window deleted.');
export const createInhibition = (input: InhibitionRuleInput) => run(client.mutation(CreateInhibitionRuleDocument, { input }).toPromise(), 'Inhibition rule added.');
export const deleteInhibition = (id: string) => run(client.mutation(DeleteInhibitionRuleDocument, { id }).toPromise(), 'Inhibition rule deleted.');
