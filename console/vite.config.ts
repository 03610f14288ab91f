/**
 * The console's build: console/ -> dist/console/ (index.html, explorer.html and hashed assets), run from the project
 * root. Two pages, each its own entry: the console (index.html) and the API explorer (explorer.html, GraphiQL), so
 * neither loads the other's code.
 */
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

/**
 * GraphiQL's stylesheet embeds its fonts (Roboto, Fira Code: 34 @font-face rules, ~360 kB) as data: URLs, which the
 * policy's font-src 'self' refuses (a CSP violation per font): they are dropped here, at the source, and
 * console/src/explorer/explorer.css names the system's fonts instead.
 */
function withoutEmbeddedFonts(): Plugin {
  return {
    name: 'without-embedded-fonts',
    enforce: 'pre',   // the file as published, before Vite's CSS pipeline
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]graphiql[\\/]dist[\\/]style\.css$/.test(id)) return null;
      return code.replace(/@font-face\s*\{[^}]*\}/g, '');
    },
  };
}

export default defineConfig({
  root: path.resolve('console'),
  base: '/',
  publicDir: false,
  plugins: [schemaHelp(), withoutEmbeddedFonts()],
  resolve: {
    // a <style> element, refused by the policy, stood in for by CSSOM: see console/src/explorer/style-singleton.ts
    alias: { 'react-style-singleton': path.resolve('console/src/explorer/style-singleton.ts') },
  },
  build: {
    outDir: path.resolve('dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: { index: path.resolve('console/index.html'), explorer: path.resolve('console/explorer.html') },
      // Radix's "use client" marks React Server Components' client modules: nothing to a browser bundle
      onwarn(warning, warn) { if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning); },
    },
    // the explorer's entry is ~930 kB (~300 kB gzipped: React, GraphiQL, graphql-js, the schema), loaded by /explorer only
    chunkSizeWarningLimit: 1000,
    // no inline module-preload polyfill: the Content-Security-Policy allows scripts from 'self' only
    modulePreload: { polyfill: false },
  },
});
