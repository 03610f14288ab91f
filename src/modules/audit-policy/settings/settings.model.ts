/**
 * The pgaudit settings model: pure, no I/O. This file is its public face; the parts live beside it:
 *
 *  - settings.descriptors.ts  the model type and THE table (SETTINGS: field, GUC, kind, default,
 *                             first pgaudit version), the lists derived from it, the defaults
 *  - settings.parse.ts        GUC text -> model, as PostgreSQL/pgaudit reads it
 *  - settings.log-classes.ts  pgaudit.log (log + logExclude): class bitmaps, parse, format, list rules
 *  - settings.format.ts       model -> canonical GUC text (for SQL and the history only)
 *  - settings.compare.ts      typed comparison (sameSetting, changedGucs) and the history's diff
 *  - settings.merge.ts        patches, normalisation, defaults fitted to a server
 *  - settings.validate.ts     pgaudit's rules and the live server's capabilities
 *  - settings.text.ts         ASCII case rules, quoting untrusted text in messages
 *
 * It converts between the GraphQL-facing model (`AuditSettingsValue`) and the text values PostgreSQL
 * holds for the `pgaudit.*` GUCs, and validates a model against pgaudit's rules and against what the
 * live server's pgaudit actually has (see ../../../../../shared/reference/pgaudit.md).
 */
export {
  AUDIT_LOG_CLASSES, AUDIT_LOG_LEVELS, LOG_PARAMETER_MAX_SIZE_MAX, MAX_ECHO_CHARS, MISC_SET_MIN_SERVER_VERSION_NUM, PGAUDIT_DEFAULTS,
  gucBelowService, PGAUDIT_GUCS, PREDEFINED_SETTINGS, ROLE_NAME_MAX_BYTES, SESSION_LOG_GUCS, SETTING_LIST, SETTINGS, settingOfGuc,
} from './settings.descriptors';
export type {
  AuditLogClass, AuditLogLevel, AuditSettingsPatch, AuditSettingsValue, GucParseResult, PgauditGuc, ServerCapabilities, Setting,
  SettingDescriptor, SettingKind, SettingProblem, SettingsField,
} from './settings.descriptors';
export { changedGucs, diffSettings, gucTextMatches, sameSetting } from './settings.compare';
export type { SettingChange } from './settings.compare';
export { formatGuc, formatGucs } from './settings.format';
export { formatLogClasses } from './settings.log-classes';
export { fitDefaultsToServer, mergeSettings, normalizeSettings, pgauditDefaultsFor, predefinedSettingsFor } from './settings.merge';
export { parseGucValue, parsePgBoolean, settingsFromGucs } from './settings.parse';
export { echo } from './settings.text';
export { validateSettings } from './settings.validate';
