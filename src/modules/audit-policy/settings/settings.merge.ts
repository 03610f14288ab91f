/** Building settings from settings: apply a patch, normalise, fit pgaudit's defaults to a server. All per the table. */
import {
  AuditSettingsPatch, AuditSettingsValue, cloneSettings, copySetting, PGAUDIT_DEFAULTS, PREDEFINED_SETTINGS, ServerCapabilities,
  SETTING_LIST,
} from './settings.descriptors';
import { normalizeClassList } from './settings.log-classes';

/** base with every defined key of patch applied (no normalisation, no validation; lists copied). */
export function mergeSettings(base: AuditSettingsValue, patch: AuditSettingsPatch): AuditSettingsValue {
  const r = cloneSettings(base);
  for (const d of SETTING_LIST) copySetting(r, patch, d);
  return r;
}

/** Dedupe + canonical order of the class lists (log/logExclude), role '' -> null. Returns a new object. */
export function normalizeSettings(s: AuditSettingsValue): AuditSettingsValue {
  const r = { ...s };
  for (const d of SETTING_LIST) {
    if (d.kind === 'classList') {
      const list = s[d.field];
      if (Array.isArray(list)) r[d.field] = normalizeClassList(list);
    } else if (d.kind === 'role' && s[d.field] === '') {
      r[d.field] = null;
    }
  }
  return r;
}

/**
 * `base` with each 'bytes' setting (logParameterMaxSize) adjusted to the server: null where the
 * server's pgaudit has no such GUC and the value is the default (0); the default where it has the
 * GUC and the value is null. Any other value is kept (validateSettings then reports it).
 */
export function fitDefaultsToServer(base: AuditSettingsValue, caps: ServerCapabilities): AuditSettingsValue {
  const r = cloneSettings(base);
  for (const d of SETTING_LIST) {
    if (d.kind !== 'bytes') continue;
    const has = caps.gucs.has(d.guc);
    if (!has && r[d.field] === d.default) r[d.field] = null;
    if (has && r[d.field] === null) r[d.field] = d.default;
  }
  return r;
}

/** PGAUDIT_DEFAULTS as this server has them (logParameterMaxSize null without the GUC). */
export function pgauditDefaultsFor(caps: ServerCapabilities): AuditSettingsValue {
  return fitDefaultsToServer(PGAUDIT_DEFAULTS, caps);
}

/** PREDEFINED_SETTINGS as this server can take them (logParameterMaxSize null without the GUC). */
export function predefinedSettingsFor(caps: ServerCapabilities): AuditSettingsValue {
  return fitDefaultsToServer(PREDEFINED_SETTINGS, caps);
}
