/** Incident actions: the mutation, then a toast; each returns whether it worked, so the form keeps its text if not. */
import { client, errorMessage } from '$lib/graphql/client';
import {
  CreateIncidentDocument,
  PostIncidentUpdateDocument,
  ResolveIncidentDocument,
  type IncidentInput,
} from '$lib/graphql/generated/graphql';
import { toast } from '$lib/toasts.svelte';

/** The server's message when it refused, else null (after a success toast). */
async function run(result: Promise<{ error?: Parameters<typeof errorMessage>[0] }>, done: string): Promise<string | null> {
  const { error } = await result;
  if (error) return errorMessage(error);
  toast('ok', done);
  return null;
}

export const createIncident = (input: IncidentInput) =>
  run(client.mutation(CreateIncidentDocument, { input }).toPromise(), `Incident “${input.title}” opened.`);
export const postIncidentUpdate = (id: string, status: string, message: string, title: string) =>
  run(client.mutation(PostIncidentUpdateDocument, { id, status, message }).toPromise(), `Update posted on “${title}”.`);
export const resolveIncident = (id: string, message: string | null, title: string) =>
  run(client.mutation(ResolveIncidentDocument, { id, message }).toPromise(), `Resolved “${title}”.`);
