/** Errors SvelteKit catches while loading or rendering a page go to error reporting too. */
import type { HandleClientError } from '@sveltejs/kit';
import { reportError } from '$lib/error-reporting';

export const handleError: HandleClientError = ({ error }) => {
  reportError(error);
};
