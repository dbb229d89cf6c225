/**
 * The small set of error codes clients see in `extensions.code`. Domain code throws these;
 * anything else that escapes a resolver is an internal error: logged with the request id,
 * reported to Sentry, and sent to the client as a bare INTERNAL_SERVER_ERROR.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
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
]);

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
