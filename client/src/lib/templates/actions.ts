/** Template actions: the mutation, then a toast; forms get the server's refusal back to show. */
import { client } from '$lib/graphql/client';
import {
  CreateTemplateDocument,
  DeleteTemplateDocument,
  RunTemplateDocument,
  UpdateTemplateDocument,
  type TemplateInput,
} from '$lib/graphql/generated/graphql';
import { madeOrRefusal, madeOrReported, reported } from '$lib/mutations';

export const createTemplate = (input: TemplateInput) =>
  madeOrRefusal(client.mutation(CreateTemplateDocument, { input }).toPromise(), (d) => d.createTemplate, () => `Template “${input.name}” created.`);

export const updateTemplate = (id: string, input: TemplateInput) =>
  madeOrRefusal(client.mutation(UpdateTemplateDocument, { id, input }).toPromise(), (d) => d.updateTemplate, (t) => `Saved “${t.name}” as version ${t.latestVersion}.`);

export const deleteTemplate = (id: string, name: string) =>
  reported(client.mutation(DeleteTemplateDocument, { id }).toPromise(), `Deleted template “${name}”.`);

/** The workflow it started, or null when refused (toasted). */
export const runTemplate = (id: string, version: number) =>
  madeOrReported(madeOrRefusal(client.mutation(RunTemplateDocument, { id, version }).toPromise(), (d) => d.runTemplate, (w) => `Version ${version} is running as “${w.name}”.`));
