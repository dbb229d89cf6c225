import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** Tests that need no PostgreSQL, Redis, network or browser: `npm run test:unit` runs only these. */
const UNIT = 'test/**/*.unit.test.ts';

export default defineConfig({
  // Decorators need emitted metadata, which esbuild does not produce: swc compiles instead.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // Vite would pick graphql's .mjs build while Node (and so type-graphql) loads the .js one;
    // two copies of graphql refuse each other's schema objects.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    setupFiles: ['reflect-metadata'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The built dashboard is plain Node code the server imports at run time, as in production.
    server: { deps: { external: [/\/client\/build\//] } },
    // `vitest run` (npm test, the CI gate) runs both projects.
    projects: [
      { extends: true, test: { name: 'unit', include: [UNIT] } },
      // Only these get a PostgreSQL server (and a Redis) found or started for them.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [UNIT], globalSetup: ['test/support/global-setup.ts'] } },
    ],
  },
});
