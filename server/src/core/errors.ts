/**
 * The small set of error codes clients see in `extensions.code`. Domain code throws these;
 * the database being unreachable is SERVICE_UNAVAILABLE (retry later); anything else that
 * escapes a resolver is an internal error: logged with the request id, reported to Sentry,
 * and sent to the client as a bare INTERNAL_SERVER_ERROR.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** Codes a client causes; they are neither logged as errors nor reported to Sentry. */
export const CLIENT_ERROR_CODES = new Set<string>([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  // execution-limits.ts: answers too large or slow, and clients that left
  'RESPONSE_TOO_LARGE',
  'QUERY_TIMEOUT',
  'CLIENT_CLOSED_REQUEST',
]);

/** The HTTP status of a client error outside GraphQL (REST-style routes: sign-in, exports); others are 500. */
export const HTTP_STATUS_OF: Readonly<Record<string, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

export const badInput = (message: string, extra?: Record<string, unknown>) => new AppError('BAD_USER_INPUT', message, extra);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('FORBIDDEN', message);
export const unauthenticated = (message = 'Sign in first') => new AppError('UNAUTHENTICATED', message);
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds });

/**
 * PostgreSQL refuses some values a client can send that nothing checked before (a NUL
 * character in text, say): its data exceptions, class 22. They are the client's fault.
 */
function isDataException(error: unknown): boolean {
  const { code, sqlState } = (error ?? {}) as { code?: unknown; sqlState?: unknown };
  return [code, sqlState].some((value) => typeof value === 'string' && /^22[0-9A-Z]{3}$/.test(value));
}

/**
 * What the client may be told about an error its input caused that arrives without a code:
 * a PostgreSQL data exception, or graphql-js giving up on variables with too many errors.
 * Null for everything else.
 */
export function clientFaultMessage(error: unknown): string | null {
  if (isDataException(error)) return 'A value in the request cannot be stored';
  if (error instanceof GraphQLError && error.message.startsWith('Too many errors processing variables')) return error.message;
  return null;
}

/** Seconds a client is told to wait (`Retry-After`, `extensions.retryAfter`) while the database is unreachable. */
export const UNAVAILABLE_RETRY_SECONDS = 5;
export const UNAVAILABLE_MESSAGE = 'The database is unavailable; retry shortly';

// Connecting failed, or PostgreSQL is shutting down, starting up or cut the connection.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006',
]);
const UNREACHABLE_MESSAGE = /Connection terminated|Connection ended unexpectedly|Timeout acquiring a connection|not queryable|the database system is (starting up|shutting down)/i;

/** Whether an error (or what it wraps) says the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message)) return true;
    cause = (cause as { originalError?: unknown; cause?: unknown }).originalError ?? (cause as { cause?: unknown }).cause;
  }
  return false;
}

export type Fault = 'client' | 'unavailable' | 'internal';

/**
 * Whose fault an error is, the one decision every transport (and background job) makes the
 * same way: the client's (its code says so, or PostgreSQL refused a value it sent), nobody's
 * bug but the database being unreachable (one outage, logged once), or ours (logged and
 * reported). `code` is the error's `extensions.code`, `original` what a resolver threw.
 */
export function faultOf(code: string | undefined, original: unknown): Fault {
  if (code !== undefined && CLIENT_ERROR_CODES.has(code)) return 'client';
  if (clientFaultMessage(original)) return 'client';
  return isDatabaseUnavailable(original) ? 'unavailable' : 'internal';
}

// PostgreSQL cannot store NUL in text, and the driver's refusal looks like a protocol error.
const NUL = /\u0000|\\u0000/i;

/** BAD_USER_INPUT when `text` (a request as sent, or its JSON) carries a NUL character, else null. */
export function nulRefusal(text: string): AppError | null {
  let found = NUL.test(text);
  if (!found) {
    try {
      found = NUL.test(decodeURIComponent(text));
    } catch {
      found = false;
    }
  }
  return found ? badInput('Text may not contain NUL characters (\\u0000)') : null;
}

/** An error message without graphql-js's "Did you mean …?", which names parts of the schema. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean(.+?)\?$/, '');
}

export function errorCode(error: GraphQLFormattedError | GraphQLError): string {
  return String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
}

/**
 * What a client may see of an error: client errors pass through; anything else is replaced
 * by a generic message so no stack, SQL or internal detail leaves the server.
 */
export function maskError(formatted: GraphQLFormattedError, requestId?: string, original?: unknown): GraphQLFormattedError {
  const fault = clientFaultMessage(original);
  if (fault) return { message: fault, locations: formatted.locations, path: formatted.path, extensions: { code: 'BAD_USER_INPUT' } };
  const code = errorCode(formatted);
  if (code === 'SERVICE_UNAVAILABLE' || (!CLIENT_ERROR_CODES.has(code) && isDatabaseUnavailable(original))) {
    return { message: UNAVAILABLE_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: UNAVAILABLE_RETRY_SECONDS } };
  }
  if (CLIENT_ERROR_CODES.has(code)) {
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code } };
  }
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  };
}
