/**
 * Import rules checked by `npm run lint` (DESIGN.md section 1). scripts/check-boundaries.ts
 * keeps the text-level checks biome cannot express; this file adds what needs the resolved
 * import graph: no cycles anywhere in src/, and the direction between the four parts.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter and modules impossible to test alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-stays-core',
      severity: 'error',
      comment: 'src/core runs in browsers and Node: it imports nothing from app, cli, server or node-store.',
      from: { path: '^src/core/' },
      to: { path: '^src/(app|cli|server|node-store)/' },
    },
    {
      name: 'core-no-node-builtins',
      severity: 'error',
      comment: 'src/core runs in browsers: no Node built-in modules.',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'app-not-node-side',
      severity: 'error',
      comment: 'The PWA bundles for browsers: it never imports the CLI, the emulator or the Node store.',
      from: { path: '^src/app/' },
      to: { path: '^src/(cli|server|node-store)/' },
    },
    {
      name: 'server-not-clients',
      severity: 'error',
      comment: 'The emulator stands alone: it never imports the PWA or the CLI.',
      from: { path: '^src/server/' },
      to: { path: '^src/(app|cli)/' },
    },
    {
      name: 'no-tests-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
