/**
 * /explorer: GraphiQL 3 (from npm, bundled by the console's Vite build as its own entry: none of this is in the
 * console's bundle) for people writing scripts against the API.
 *
 * - The schema is schema.graphql as built into this file (Vite's `?raw`), never an introspection request: the
 *   gateway answers none in production.
 * - The token is the console's (sessionStorage `pga.token`, console/src/api.ts), sent by the fetcher as
 *   `Authorization: Bearer` to the same origin's POST /graphql: never in a URL, never in GraphiQL's storage.
 * - GraphiQL 3 (CodeMirror 5, React 18), not 5 (Monaco: inline <style> elements and web workers), so that the
 *   console's Content-Security-Policy holds unchanged; style-singleton.ts and vite.config.ts handle the rest.
 */
import { GraphiQL, type GraphiQLProps } from 'graphiql';
import { buildSchema } from 'graphql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import sdl from '../../../schema.graphql?raw';
import 'graphiql/graphiql.css';
import './explorer.css';

/** The console's key (console/src/api.ts): not imported, so that the console's code stays out of this bundle. */
const TOKEN_KEY = 'pga.token';

const DEFAULT_QUERY = `# Ctrl-Enter runs the query, Ctrl-Space completes; the Docs button shows the schema.
# Each request is POST /graphql with Authorization: Bearer <your token>, as a script would send it.
query Services {
  services(first: 5) {
    totalCount
    edges { node { id name } }
  }
}
`;

/**
 * The gateway's answer as GraphiQL shows it: the JSON body whatever the status (a 401's body holds the
 * gateway's UNAUTHENTICATED error), or, for a body that is not JSON, the status and its text.
 */
const fetcher: GraphiQLProps['fetcher'] = async ({ query, variables, operationName }) => {
  const token = sessionStorage.getItem(TOKEN_KEY);   // read per request: signing out in this tab takes effect at once
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables, operationName }),
  });
  const text = await response.text();
  try { return JSON.parse(text); }
  catch { return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] }; }
};

/** GraphiQL's editors by the element around each (the headers editor is off, below), and the name a screen reader says. */
const EDITOR_NAMES: readonly [string, string][] = [['.graphiql-query-editor', 'Query'], ['.graphiql-editor-tool', 'Variables (JSON)'], ['.graphiql-response', 'Result']];

/**
 * Names GraphiQL's editors once they exist. They are CodeMirror 5 editors, made after GraphiQL's lazy import of
 * CodeMirror, each typed into through a text area without a name (a screen reader says "edit text"; axe: 'label',
 * critical). CodeMirror's own screenReaderLabel option names that text area; the editor is the `CodeMirror`
 * property of its wrapper element.
 */
function nameEditors(root: HTMLElement): void {
  const observer = new MutationObserver(() => {
    let named = 0;
    for (const [around, name] of EDITOR_NAMES) {
      const editor = root.querySelector<HTMLElement & { CodeMirror?: { setOption(option: string, value: string): void } }>(`${around} .CodeMirror`)?.CodeMirror;
      if (!editor) continue;
      editor.setOption('screenReaderLabel', name);
      named++;
    }
    if (named === EDITOR_NAMES.length) observer.disconnect();
  });
  observer.observe(root, { childList: true, subtree: true });
}

document.getElementById(sessionStorage.getItem(TOKEN_KEY) ? 'signed-in' : 'signed-out')!.hidden = false;

const root = document.getElementById('explorer')!;
nameEditors(root);
createRoot(root).render(createElement(GraphiQL, {
  fetcher,
  schema: buildSchema(sdl),
  defaultQuery: DEFAULT_QUERY,
  // Headers are never persisted, and there is no headers editor: the token comes from the session, and
  // GraphiQL 3's history keeps the headers editor's text in localStorage whatever shouldPersistHeaders says
  // (@graphiql/react's execution context -> addToHistory), so a pasted token would outlive the tab.
  shouldPersistHeaders: false,
  isHeadersEditorEnabled: false,
  forcedTheme: 'light',   // as the console; explorer.css makes its colours readable
}));
