/**
 * The layers, checked in CI (`npm run check:layers`, run by scripts/test.sh):
 *
 *   cli  ->  api  ->  modules  ->  base        (each may import only what is to its right)
 *
 * - src/base: config, logger, database client, domain error, Relay pieces; imports nothing of the product above it.
 * - src/modules/<domain>: one folder per domain. MODULES below is their order, lowest first: a module may import
 *   only the modules before it, so two modules can never import each other (directly or round a longer loop).
 * - src/api: HTTP, schema, context, the one error map, the composition root; src/cli: the executable.
 * - Product code (src/, tests aside) never imports dev/, bench/ or test/ code, nor a devDependency.
 * Type-only imports count too: a layer that names a type of a higher one depends on it.
 */
const MODULES = ['tenancy', 'entitlements', 'audit-events', 'audit-policy', 'redaction', 'ingest'];

const moduleOrder = MODULES.map((name, i) => ({
  name: `module-order-${name}`,
  comment: `src/modules/${name} may import only the modules below it: ${MODULES.slice(0, i).join(', ') || 'none'} (see MODULES)`,
  severity: 'error',
  from: { path: `^src/modules/${name}/` },
  to: { path: `^src/modules/(${MODULES.slice(i).join('|')})/`, pathNot: `^src/modules/${name}/` },
}));

const PRODUCT = { path: '^src/', pathNot: '\\.test\\.ts$' };

module.exports = {
  forbidden: [
    { name: 'base-is-the-bottom', comment: 'src/base imports nothing of the product above it', severity: 'error',
      from: { path: '^src/base/' }, to: { path: '^src/(api|cli|modules)/' } },
    { name: 'modules-below-api', comment: 'domain modules never import the API layer or the CLI', severity: 'error',
      from: { path: '^src/modules/' }, to: { path: '^src/(api|cli)/' } },
    { name: 'api-below-cli', comment: 'the API layer never imports the CLI', severity: 'error',
      from: { path: '^src/api/' }, to: { path: '^src/cli/' } },
    ...moduleOrder,
    { name: 'known-folders', comment: 'product code lives in src/base, src/modules/<domain> (listed in MODULES), src/api, src/cli (or is generated)', severity: 'error',
      from: PRODUCT, to: { path: '^src/', pathNot: `^src/(base|api|cli|generated|modules/(${MODULES.join('|')}))/` } },
    { name: 'product-not-tools', comment: 'product code never imports dev, bench or test code', severity: 'error',
      from: PRODUCT, to: { path: '^(dev|bench|test|scripts)/' } },
    { name: 'product-not-dev-dependencies', comment: 'product code never imports a devDependency (the image installs production ones only)', severity: 'error',
      from: PRODUCT, to: { dependencyTypes: ['npm-dev'] } },
    { name: 'prisma-in-repositories', comment: 'only repositories and the base database client import the Prisma client', severity: 'error',
      from: { path: '^src/', pathNot: ['^src/base/db/', '\\.repository\\.ts$', '^src/generated/'] }, to: { path: '^src/generated/' } },
    { name: 'no-circular', comment: 'no import cycles between files', severity: 'error',
      from: { path: '^(src|dev|bench|test)/', pathNot: '^src/generated/' }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
