/**
 * Executes operations with graphql-jit: each distinct document is compiled once into plain
 * JavaScript that calls the schema's resolvers directly, instead of graphql-js walking the
 * document for every object of every request (most of a large list's time went there).
 *
 * Plugged into Apollo through its gateway interface, Apollo's supported way to replace the
 * executor: parsing, validation, the document cache, plugins and error formatting stay Apollo's.
 */
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { getVariableValues, GraphQLError, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { executePlan, PLAN_FAILED, planQuery, type QueryPlan } from './planned.js';

type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];

/** Compiled documents kept; the oldest is dropped past this, so odd clients cannot grow memory. */
const MAX_COMPILED = 500;

/**
 * jit's errors only look like graphql-js ones: `extensions` is undefined when the cause has
 * none, and Apollo's error formatting reads `extensions.code` (and fails to a bare internal
 * error, losing the cause). A real GraphQLError with the same message, path and cause.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const copy = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  (copy as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return copy;
}

/** Queries this process answered by their plan, and plans that gave up (graphql-jit answered). */
export const planOutcomes = { answered: 0, gaveUp: 0 };

export interface ExecutorOptions {
  /** queries are executed by their plan (graphql/planned.ts) where one covers them; false: always graphql-jit */
  plans?: boolean;
}

export function jitExecutor(schema: GraphQLSchema, options: ExecutorOptions = {}): Gateway {
  const compiled = new Map<string, CompiledQuery>();
  const plans = new Map<string, QueryPlan | null>();

  const planFor = (request: Parameters<NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>>[0]) => {
    const key = `${request.queryHash}:${request.operationName ?? ''}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = planQuery(schema, request.document, request.operationName ?? undefined);
      if (plans.size >= MAX_COMPILED) plans.delete(plans.keys().next().value!);
      plans.set(key, plan);
    }
    return plan;
  };

  const compiledFor = (request: Parameters<NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>>[0]) => {
    const key = `${request.queryHash}:${request.operationName ?? ''}`;
    const cached = compiled.get(key);
    if (cached) return cached;
    const result = compileQuery(schema, request.document, request.operationName ?? undefined);
    if (!isCompiledQuery(result)) return result;
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, result);
    return result;
  };

  return {
    async load() {
      return {
        executor: async (request) => {
          const plan = options.plans === false ? null : planFor(request);
          if (plan) {
            try {
              const data = await executePlan(schema, plan, request.context, request.request.variables ?? {});
              planOutcomes.answered++;
              return { data };
            } catch (error) {
              // Anything but a clean answer: graphql-jit runs it again and reports the errors.
              if (error !== PLAN_FAILED) throw error;
              planOutcomes.gaveUp++;
            }
          }
          const query = compiledFor(request);
          if (!isCompiledQuery(query)) return query;
          const variables = request.request.variables ?? {};
          const result = await query.query(undefined, request.context, variables);
          // jit reports bad variables (no data at all) without the variable's node and sometimes
          // under the wrong name; graphql-js's own errors let Apollo answer BAD_USER_INPUT.
          if (!('data' in result) && result.errors?.length && request.operation) {
            const coerced = getVariableValues(schema, request.operation.variableDefinitions ?? [], variables);
            if (coerced.errors) return { errors: coerced.errors };
          }
          return result.errors?.length ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {},
  };
}
