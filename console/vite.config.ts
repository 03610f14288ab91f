/** The console's build: console/ -> dist/console/ (index.html and hashed assets), run from the project root. */
import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: path.resolve('console'),
  base: '/',
  publicDir: false,
  build: {
    outDir: path.resolve('dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // no inline module-preload polyfill: the Content-Security-Policy allows scripts from 'self' only
    modulePreload: { polyfill: false },
  },
});
