/// <reference types="vite/client" />

declare module 'virtual:schema-help' {
  /** AuditSettingsInput's field descriptions and targetDatabases', from schema.graphql (console/vite.config.ts). */
  const help: Record<string, string>;
  export default help;
}
