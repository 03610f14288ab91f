/** The console's build: console/ -> dist/console/ (index.html and hashed assets), run from the project root. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, isInputObjectType } from 'graphql';
import { defineConfig, type Plugin } from 'vite';

/**
 * `virtual:schema-help`: the descriptions of AuditSettingsInput's fields, taken from schema.graphql at build time,
 * so the policy editor shows the API's own help text (the gateway answers no introspection in production).
 */
function schemaHelp(): Plugin {
  const id = 'virtual:schema-help';
  return {
    name: 'schema-help',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(source) {
      if (source !== `\0${id}`) return null;
      const type = buildSchema(readFileSync(path.resolve('schema.graphql'), 'utf8')).getType('AuditSettingsInput');
      if (!isInputObjectType(type)) throw new Error('schema.graphql has no input AuditSettingsInput');
      const help = Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, f.description ?? '']));
      return `export default ${JSON.stringify(help)};`;
    },
  };
}

export default defineConfig({
  root: path.resolve('console'),
  base: '/',
  publicDir: false,
  plugins: [schemaHelp()],
  build: {
    outDir: path.resolve('dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // no inline module-preload polyfill: the Content-Security-Policy allows scripts from 'self' only
    modulePreload: { polyfill: false },
  },
});
