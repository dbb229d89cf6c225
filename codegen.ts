import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for the dashboard, from the checked-in SDL and the client's operations. */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/src/lib/graphql/**/*.graphql'],
  ignoreNoDocuments: true,
  generates: {
    'client/src/lib/graphql/generated/': {
      preset: 'client',
      // Pages read fragment fields directly; enums as string unions match the JSON on the wire.
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
  },
};

export default config;
