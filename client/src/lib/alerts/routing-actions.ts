/** Alert routing actions: the mutation, then a toast; each returns the server's refusal (null when it worked). */
import { client, errorMessage } from '$lib/graphql/client';
import {
  CreateContactPointDocument,
  CreateInhibitionRuleDocument,
  CreateMaintenanceWindowDocument,
  CreateNotificationRouteDocument,
  CreateSilenceDocument,
  DeleteContactPointDocument,
  DeleteInhibitionRuleDocument,
  DeleteMaintenanceWindowDocument,
  DeleteNotificationRouteDocument,
  ExpireSilenceDocument,
  MoveNotificationRouteDocument,
  TestContactPointDocument,
  UpdateContactPointDocument,
  UpdateInhibitionRuleDocument,
  UpdateMaintenanceWindowDocument,
  UpdateNotificationRouteDocument,
  UpdateSilenceDocument,
  type ContactPointInput,
  type InhibitionRuleInput,
  type MaintenanceWindowInput,
  type NotificationRouteInput,
  type SilenceInput,
} from '$lib/graphql/generated/graphql';
import { refusalOf as run } from '$lib/mutations';
import { toast } from '$lib/toasts.svelte';

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
export const updateRoute = (id: string, input: NotificationRouteInput) => run(client.mutation(UpdateNotificationRouteDocument, { id, input }).toPromise(), 'Route saved.');
export const updateSilence = (id: string, input: SilenceInput) => run(client.mutation(UpdateSilenceDocument, { id, input }).toPromise(), 'Silence saved.');
export const updateWindow = (id: string, input: MaintenanceWindowInput) => run(client.mutation(UpdateMaintenanceWindowDocument, { id, input }).toPromise(), `Maintenance window “${input.name}” saved.`);
export const updateInhibition = (id: string, input: InhibitionRuleInput) => run(client.mutation(UpdateInhibitionRuleDocument, { id, input }).toPromise(), 'Inhibition rule saved.');
export const createContactPoint = (input: ContactPointInput) => run(client.mutation(CreateContactPointDocument, { input }).toPromise(), `Contact point “${input.name}” added.`);
export const updateContactPoint = (id: string, input: ContactPointInput) => run(client.mutation(UpdateContactPointDocument, { id, input }).toPromise(), `Contact point “${input.name}” saved.`);
export const deleteContactPoint = (id: string, name: string) => run(client.mutation(DeleteContactPointDocument, { id }).toPromise(), `Contact point “${name}” deleted.`);

/** Sends a test message; the toast says what the receiver answered. */
export async function testContactPoint(id: string, name: string): Promise<string | null> {
  const { data, error } = await client.mutation(TestContactPointDocument, { id }).toPromise();
  if (error || !data) return error ? errorMessage(error) : 'No answer from the server';
  const sent = data.testContactPoint;
  if (sent.status === 'DELIVERED') toast('ok', `Test message to “${name}” delivered: ${sent.response ?? 'accepted'}.`);
  else toast('error', `Test message to “${name}” failed: ${sent.error ?? sent.response ?? 'no answer'}.`);
  return null;
}
