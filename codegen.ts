import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for the dashboard and the SDK, from the checked-in SDL and each one's operations. */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: true,
  generates: {
    'client/src/lib/graphql/generated/': {
      documents: ['client/src/lib/graphql/**/*.graphql'],
      preset: 'client',
      // Pages read fragment fields directly; enums as string unions match the JSON on the wire.
      // persisted-documents.json: the trusted documents (sha256 → text) the server accepts by id
      // (and alone with TRUSTED_DOCUMENTS=only); each document carries its id in __meta__.hash.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
    // The SDK sends plain strings (no graphql runtime to parse documents), and is an ES module
    // Node loads as built: relative imports need their .js.
    'sdk/src/generated/': {
      documents: ['sdk/src/graphql/**/*.graphql'],
      preset: 'client',
      // Trusted too: workers send these texts, whose sha256 the manifest lists.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        documentMode: 'string',
        importExtension: '.js',
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
