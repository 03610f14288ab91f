/// <reference types="vite/client" />

declare module 'virtual:schema-help' {
  /** AuditSettingsInput's field descriptions from schema.graphql (console/vite.config.ts). */
  const help: Record<string, string>;
  export default help;
}
