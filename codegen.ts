import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for the dashboard, from the checked-in SDL and the client's operations. */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/src/lib/graphql/**/*.graphql'],
  ignoreNoDocuments: true,
  generates: {
    'client/src/lib/graphql/generated/': {
      preset: 'client',
      config: { useTypeImports: true, scalars: { DateTime: 'string' } },
    },
  },
};

export default config;
