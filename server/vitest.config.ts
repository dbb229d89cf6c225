import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // Decorators need emitted metadata, which esbuild does not produce: swc compiles instead.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // Vite would pick graphql's .mjs build while Node (and so type-graphql) loads the .js one;
    // two copies of graphql refuse each other's schema objects.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The built dashboard is plain Node code the server imports at run time, as in production.
    server: { deps: { external: [/\/client\/build\//] } },
  },
});
