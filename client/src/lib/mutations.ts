/**
 * The one way the dashboard reports a mutation: a toast saying what happened, or the server's
 * reason it did not (as a toast, or returned for a form to show beside its fields).
 */
import { goto } from '$app/navigation';
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

/** What a mutation made (after a toast from `done`), or the server's refusal for a form to show. */
export async function madeOrRefusal<D, T>(
  result: Promise<{ data?: D; error?: Parameters<typeof errorMessage>[0] }>, pick: (data: D) => T, done: (made: T) => string,
): Promise<{ made: T } | { refused: string }> {
  const { data, error } = await result;
  if (error || !data) return { refused: errorMessage(error) };
  const made = pick(data);
  toast('ok', done(made));
  return { made };
}

/** What a mutation made, or null when refused (the refusal shown as an error toast). */
export async function madeOrReported<T>(outcome: Promise<{ made: T } | { refused: string }>): Promise<T | null> {
  const settled = await outcome;
  if ('made' in settled) return settled.made;
  toast('error', settled.refused);
  return null;
}

/** Opens the page of what was made; a refusal goes back to the form. */
export async function openWhenMade<T>(outcome: Promise<{ made: T } | { refused: string }>, href: (made: T) => string): Promise<string | null> {
  const settled = await outcome;
  if ('refused' in settled) return settled.refused;
  await goto(href(settled.made));
  return null;
}
