/**
 * The one way the dashboard reports a mutation: a toast saying what happened, or the server's
 * reason it did not (as a toast, or returned for a form to show beside its fields).
 */
import { errorMessage } from '$lib/graphql/client';
import { toast } from '$lib/toasts.svelte';

type Outcome = Promise<{ error?: Parameters<typeof errorMessage>[0] }>;

/** null once done (after a success toast), else the server's message, for a form to show. */
export async function refusalOf(result: Outcome, done: string): Promise<string | null> {
  const { error } = await result;
  if (error) return errorMessage(error);
  toast('ok', done);
  return null;
}

/** Whether it worked; a refusal is shown as an error toast. */
export async function reported(result: Outcome, done: string): Promise<boolean> {
  const refusal = await refusalOf(result, done);
  if (refusal !== null) toast('error', refusal);
  return refusal === null;
}
