/** Incident actions: the mutation, then a toast; each returns whether it worked, so the form keeps its text if not. */
import { client } from '$lib/graphql/client';
import {
  CreateIncidentDocument,
  PostIncidentUpdateDocument,
  ResolveIncidentDocument,
  type IncidentInput,
} from '$lib/graphql/generated/graphql';
import { refusalOf as run } from '$lib/mutations';

export const createIncident = (input: IncidentInput) =>
  run(client.mutation(CreateIncidentDocument, { input }).toPromise(), `Incident “${input.title}” opened.`);
export const postIncidentUpdate = (id: string, status: string, message: string, title: string) =>
  run(client.mutation(PostIncidentUpdateDocument, { id, status, message }).toPromise(), `Update posted on “${title}”.`);
export const resolveIncident = (id: string, message: string | null, title: string) =>
  run(client.mutation(ResolveIncidentDocument, { id, message }).toPromise(), `Resolved “${title}”.`);
