/** The console's build: console/ -> dist/console/ (index.html and hashed assets), run from the project root. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, isInputObjectType } from 'graphql';
import { defineConfig, type Plugin } from 'vite';

/**
 * `virtual:schema-help`: the descriptions of AuditSettingsInput's fields and of targetDatabases (EnableAuditLoggingInput),
 * taken from schema.graphql at build time,
 * so the policy editor shows the API's own help text (the gateway answers no introspection in production).
 */
function schemaHelp(): Plugin {
  const id = 'virtual:schema-help';
  return {
    name: 'schema-help',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(source) {
      if (source !== `\0${id}`) return null;
      const schema = buildSchema(readFileSync(path.resolve('schema.graphql'), 'utf8'));
      const fields = (name: string) => {
        const type = schema.getType(name);
        if (!isInputObjectType(type)) throw new Error(`schema.graphql has no input ${name}`);
        return type.getFields();
      };
      const help = Object.fromEntries(Object.values(fields('AuditSettingsInput')).map((f) => [f.name, f.description ?? '']));
      help.targetDatabases = fields('EnableAuditLoggingInput').targetDatabases?.description ?? '';
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
