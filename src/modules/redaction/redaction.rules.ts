/**
 * A service's redaction rules: what the ingester takes out of every event and dead letter before anything is
 * indexed. The model, its validation, how a change is described in the history, and how stored rules are read
 * back. Pure: no I/O.
 */
import { PATTERN_NAMES, PatternName, isPatternName } from './pattern.detectors';
import { RedactionError, RedactionErrorCode, RedactionUserError } from './redaction.errors';

export interface RedactionRules {
  /** Parameters (pgaudit.log_parameter) are not stored: `parameters` null, `redaction.parametersDropped` true. */
  dropParameters: boolean;
  /** String literals of statements ('...', E'...', U&'...', $$...$$, B'...', X'...') become '***'. */
  maskStringLiterals: boolean;
  /** Numeric literals of statements (42, 3.14, .5, 1e10, 0x1F) become ***. */
  maskNumericLiterals: boolean;
  /** Named detectors (pattern.detectors.ts) run over statements, parameters and dead letters. */
  patterns: PatternName[];
}

/** No redaction: a service without rules, and what rules are compared with before their first revision. */
export const NO_REDACTION: RedactionRules = Object.freeze({ dropParameters: false, maskStringLiterals: false, maskNumericLiterals: false,
  patterns: [] as PatternName[] }) as RedactionRules;

/** The rules' fields as the history names them, in order (one table: changes, stored form). */
const FLAGS = ['dropParameters', 'maskStringLiterals', 'maskNumericLiterals'] as const;

/** Whether the rules change anything at all. */
export const isActive = (r: RedactionRules): boolean => r.dropParameters || r.maskStringLiterals || r.maskNumericLiterals || r.patterns.length > 0;

/** Whether a dead letter's line may hold what these rules take out of a statement or parameters: then it is kept in shape only. */
export const withholdsLines = (r: RedactionRules): boolean => r.dropParameters || r.maskStringLiterals || r.maskNumericLiterals;

/** The rules in their one written form: patterns in the table's order, each once. */
export function normalizeRules(r: RedactionRules): RedactionRules {
  return { dropParameters: r.dropParameters, maskStringLiterals: r.maskStringLiterals, maskNumericLiterals: r.maskNumericLiterals,
    patterns: PATTERN_NAMES.filter((p) => r.patterns.includes(p)) };
}

/** The rules a caller gave, or every problem with them (field paths under `input.rules`). */
export function validateRules(r: { dropParameters: unknown; maskStringLiterals: unknown; maskNumericLiterals: unknown; patterns: unknown })
  : { ok: true; rules: RedactionRules } | { ok: false; errors: RedactionUserError[] } {
  const errors: RedactionUserError[] = [];
  const bad = (field: string, message: string) => errors.push({ code: RedactionErrorCode.INVALID_RULES, message, field: ['input', 'rules', field] });
  for (const f of FLAGS) if (typeof r[f] !== 'boolean') bad(f, `${f} must be true or false`);
  if (!Array.isArray(r.patterns)) bad('patterns', 'patterns must be a list');
  else {
    if (r.patterns.length > PATTERN_NAMES.length) bad('patterns', `patterns takes at most ${PATTERN_NAMES.length} names`);
    const seen = new Set<string>();
    for (const p of r.patterns) {
      if (typeof p !== 'string' || !isPatternName(p)) bad('patterns', `unknown pattern ${JSON.stringify(String(p).slice(0, 40))}; known: ${PATTERN_NAMES.join(', ')}`);
      else if (seen.has(p)) bad('patterns', `pattern ${p} is named twice`);
      else seen.add(p);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, rules: normalizeRules(r as RedactionRules) };
}

export interface RuleChange { rule: string; from: string; to: string }

/** What a revision changed, rule by rule (flags as true/false, patterns as a comma-separated list). */
export function diffRules(before: RedactionRules, after: RedactionRules): RuleChange[] {
  const changes: RuleChange[] = [];
  for (const f of FLAGS) if (before[f] !== after[f]) changes.push({ rule: f, from: String(before[f]), to: String(after[f]) });
  const b = before.patterns.join(','), a = after.patterns.join(',');
  if (a !== b) changes.push({ rule: 'patterns', from: b, to: a });
  return changes;
}

/**
 * Rules as the gateway database holds them (jsonb). Anything else (a pattern or field of a newer version)
 * throws RULES_UNREADABLE: the ingester must not index under rules it cannot apply whole.
 */
export function rulesFromStored(value: unknown): RedactionRules {
  const unreadable = () => new RedactionError(RedactionErrorCode.RULES_UNREADABLE,
    'the stored redaction rules cannot be read by this version of the gateway (written by a newer one?)');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw unreadable();
  const known = new Set<string>([...FLAGS, 'patterns']);
  if (Object.keys(value).some((k) => !known.has(k))) throw unreadable();
  const v = validateRules(value as Parameters<typeof validateRules>[0]);
  if (!v.ok) throw unreadable();
  return v.rules;
}
