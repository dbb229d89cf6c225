/**
 * type-graphql calls every field resolver through a generic wrapper: per call a data object,
 * the resolver instance looked up, its parameter list sorted and mapped, the root converted.
 * A 1,000-task list makes about 3,000 such calls (the ids, `dependsOn`). Field resolvers that
 * take only `@Root()` and `@Ctx()` and have no middleware or roles are called directly instead,
 * with the same arguments; the wrapper stays for every other resolver, and for a root that is
 * not an instance of its declared type (which the wrapper would convert).
 *
 * Valid only for schemas built without global middlewares or an auth checker (buildAppSchema).
 */
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';

type Class = abstract new (...args: never[]) => object;

/** What is read here of type-graphql's metadata (its storage is public, its shape typed loosely). */
interface FieldResolverMetadata {
  kind: 'internal' | 'external';
  target: new () => Record<string, (...args: unknown[]) => unknown>;
  methodName: string;
  schemaName: string;
  getObjectType?: () => Class;
  params?: Array<{ kind: string; index: number; propertyName?: string; getType?: () => unknown }>;
  middlewares?: unknown[];
  roles?: unknown[];
}
interface Storage {
  fieldResolvers: FieldResolverMetadata[];
  objectTypes: Array<{ name: string; target: Class }>;
}

export function callFieldResolversDirectly(schema: GraphQLSchema): void {
  const storage = getMetadataStorage() as unknown as Storage;
  for (const resolver of storage.fieldResolvers) {
    const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
    if (resolver.kind !== 'external' || resolver.middlewares?.length || resolver.roles?.length) continue;
    const kinds = params.map((p) => p.kind).join(',');
    if (!['root', 'context', 'root,context', 'context,root'].includes(kinds) || params.some((p) => p.propertyName)) continue;
    const objectClass = resolver.getObjectType?.();
    const type = schema.getType(storage.objectTypes.find((o) => o.target === objectClass)?.name ?? '');
    const field = isObjectType(type) ? type.getFields()[resolver.schemaName] : undefined;
    if (!field?.resolve) continue;
    const wrapped: GraphQLFieldResolver<unknown, unknown> = field.resolve;
    const rootType = params.find((p) => p.kind === 'root')?.getType?.();
    const instance = new resolver.target();
    const method = instance[resolver.methodName];
    field.resolve = (root, args, context, info) => {
      if (typeof rootType === 'function' && !(root instanceof rootType)) return wrapped(root, args, context, info);
      switch (kinds) {
        case 'root':
          return method.call(instance, root);
        case 'context':
          return method.call(instance, context);
        case 'root,context':
          return method.call(instance, root, context);
        default:
          return method.call(instance, context, root);
      }
    };
  }
}
