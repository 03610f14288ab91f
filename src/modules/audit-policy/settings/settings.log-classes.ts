/**
 * pgaudit.log, the one GUC that holds two model fields: included classes (`log`) and '-class'
 * exclusions (`logExclude`). Parsing, formatting and the list rules follow pgaudit.c's
 * check_pgaudit_log and PostgreSQL's SplitIdentifierString.
 */
import {
  AUDIT_LOG_CLASSES, AuditLogClass, AuditSettingsValue, GucParseResult, isAuditLogClass, MISC_SET_MIN_SERVER_VERSION_NUM,
  ServerCapabilities, SettingProblem,
} from './settings.descriptors';
import { asciiLower, asciiUpper, echo, echoUnknown } from './settings.text';

/** Dedupe, known classes in AUDIT_LOG_CLASSES order, then any unknown runtime values in input order. */
export function normalizeClassList(list: readonly AuditLogClass[]): AuditLogClass[] {
  const seen = new Set<string>(list);
  const known = AUDIT_LOG_CLASSES.filter((c) => seen.has(c));
  const unknown: AuditLogClass[] = [];
  for (const c of list) if (!isAuditLogClass(c) && !unknown.includes(c)) unknown.push(c);
  return [...known, ...unknown];
}

/** Same classes after normalisation (order and duplicates do not matter): what the canonical texts compare. */
export function sameClassList(a: readonly AuditLogClass[], b: readonly AuditLogClass[]): boolean {
  const x = normalizeClassList(a);
  const y = normalizeClassList(b);
  return x.length === y.length && x.every((c, i) => c === y[i]);
}

// ---------------------------------------------------------------------------------------------
// pgaudit.log class bitmaps (pgaudit.c): MISC covers MISC_SET, ALL covers every bit (also future ones)
// ---------------------------------------------------------------------------------------------

const BIT_READ = 1;
const BIT_WRITE = 2;
const BIT_FUNCTION = 4;
const BIT_ROLE = 8;
const BIT_DDL = 16;
const BIT_MISC = 32;
const BIT_MISC_SET = 64;
/** Stands for every bit only ALL sets (pgaudit uses 0xFFFFFFFF). */
const BIT_OTHER = 128;
const BITS_ALL = 255;

const CLASS_BITS: Record<AuditLogClass, number> = {
  READ: BIT_READ,
  WRITE: BIT_WRITE,
  FUNCTION: BIT_FUNCTION,
  ROLE: BIT_ROLE,
  DDL: BIT_DDL,
  MISC: BIT_MISC | BIT_MISC_SET,
  MISC_SET: BIT_MISC_SET,
  ALL: BITS_ALL,
};

const SINGLE_BIT_CLASSES = ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL'] as const satisfies readonly AuditLogClass[];

function bitsOf(list: readonly AuditLogClass[]): number {
  let b = 0;
  for (const c of list) b |= CLASS_BITS[c];
  return b;
}

/** The effective bitmap of a model: included classes minus excluded ones (how formatGucs' text reads). */
function effectiveBits(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): number {
  return bitsOf(log) & ~bitsOf(logExclude) & BITS_ALL;
}

/** The simplest valid model with exactly the effective bitmap `e`. */
function modelFromBits(e: number): { log: AuditLogClass[]; logExclude: AuditLogClass[] } {
  if (e === 0) return { log: [], logExclude: [] };
  if (e & BIT_OTHER) {
    const missing = BITS_ALL & ~e;
    const misc = missing & (BIT_MISC | BIT_MISC_SET);
    // "everything but MISC while keeping MISC_SET" cannot be written as ALL minus classes; fall through.
    if (misc !== BIT_MISC) {
      const logExclude: AuditLogClass[] = SINGLE_BIT_CLASSES.filter((c) => missing & CLASS_BITS[c]);
      if (misc === (BIT_MISC | BIT_MISC_SET)) logExclude.push('MISC');
      else if (misc === BIT_MISC_SET) logExclude.push('MISC_SET');
      return { log: ['ALL'], logExclude: normalizeClassList(logExclude) };
    }
  }
  const log: AuditLogClass[] = SINGLE_BIT_CLASSES.filter((c) => e & CLASS_BITS[c]);
  const logExclude: AuditLogClass[] = [];
  const misc = e & (BIT_MISC | BIT_MISC_SET);
  if (misc === (BIT_MISC | BIT_MISC_SET)) log.push('MISC');
  else if (misc === BIT_MISC_SET) log.push('MISC_SET');
  else if (misc === BIT_MISC) {
    log.push('MISC');
    logExclude.push('MISC_SET');
  }
  return { log: normalizeClassList(log), logExclude };
}

// ---------------------------------------------------------------------------------------------
// Parsing (text -> model), as PostgreSQL/pgaudit reads it
// ---------------------------------------------------------------------------------------------

/**
 * PostgreSQL's scanner_isspace. Deliberately without '\v': PostgreSQL 16+ added it, older majors
 * reject it, and we must never accept what some server would refuse.
 */
function isPgSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f';
}

/** PostgreSQL's SplitIdentifierString(rawstring, ','): null on a syntax error. */
function splitIdentifierList(raw: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (isPgSpace(raw[i])) i++;
  if (i >= raw.length) return out; // empty (or all-space) list is allowed
  for (;;) {
    let name: string;
    if (raw[i] === '"') {
      // Quoted name: "" collapses to ", no downcasing.
      let j = i + 1;
      name = '';
      for (;;) {
        const end = raw.indexOf('"', j);
        if (end < 0) return null; // mismatched quotes
        name += raw.slice(j, end);
        if (raw[end + 1] === '"') {
          name += '"';
          j = end + 2;
          continue;
        }
        i = end + 1;
        break;
      }
    } else {
      const start = i;
      while (i < raw.length && raw[i] !== ',' && !isPgSpace(raw[i])) i++;
      if (i === start) return null; // empty unquoted name
      name = asciiLower(raw.slice(start, i));
    }
    while (isPgSpace(raw[i])) i++;
    out.push(name);
    if (raw[i] === ',') {
      i++;
      while (isPgSpace(raw[i])) i++;
      continue;
    }
    if (i >= raw.length) return out;
    return null; // anything else after a name is a syntax error (e.g. 'read write', 'read;write')
  }
}

const LOG_CLASS_HELP = 'expected a comma-separated list of NONE, ALL, READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET, each optionally prefixed with - to exclude it';

/**
 * pgaudit.log text -> model.
 *
 * pgaudit applies the items left to right on a bitmap (`-x` clears, `x` sets), so order matters and
 * the model (included classes, then exclusions) cannot keep the text's shape in every case. The
 * result is:
 *  - the items as written (includes -> log, `-x` -> logExclude) when that model means exactly what
 *    the text means and passes validateSettings' pgaudit.log checks (so every valid model round-trips
 *    through formatGucs);
 *  - otherwise the simplest valid model with the same effective classes (e.g. 'read,-read' -> none,
 *    '-misc' -> none, '-all,read' -> [READ], 'all,-read,read' -> [ALL]).
 */
export function parseLogClasses(text: string): GucParseResult {
  const items = splitIdentifierList(text);
  if (items === null) {
    return { ok: false, message: `invalid value for pgaudit.log: ${echo(text)} is not a valid list (${LOG_CLASS_HELP})` };
  }
  const log: AuditLogClass[] = [];
  const logExclude: AuditLogClass[] = [];
  let bits = 0;
  for (const item of items) {
    const subtract = item.startsWith('-');
    const name = asciiUpper(subtract ? item.slice(1) : item);
    if (name === 'NONE') continue; // pgaudit: class 0, adding or removing it changes nothing
    if (!isAuditLogClass(name)) {
      return { ok: false, message: `invalid value for pgaudit.log: unknown class ${echo(item)} (${LOG_CLASS_HELP})` };
    }
    if (subtract) {
      logExclude.push(name);
      bits &= ~CLASS_BITS[name];
    } else {
      log.push(name);
      bits |= CLASS_BITS[name];
    }
  }
  const direct = { log: normalizeClassList(log), logExclude: normalizeClassList(logExclude) };
  if (effectiveBits(direct.log, direct.logExclude) === bits && logListProblems(direct.log, direct.logExclude).length === 0) {
    return { ok: true, value: direct };
  }
  return { ok: true, value: modelFromBits(bits) };
}

/** Canonical pgaudit.log text: 'read,write,-misc' ('none' when both lists are empty). */
export function formatLogClasses(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): string {
  const items = [
    ...normalizeClassList(log).map((c) => c.toLowerCase()),
    ...normalizeClassList(logExclude).map((c) => `-${c.toLowerCase()}`),
  ];
  return items.length === 0 ? 'none' : items.join(',');
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** pgaudit.log rules on normalised lists of known classes. */
function logListProblems(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const invalid = (message: string): void => {
    problems.push({ code: 'INVALID_SETTING', field: 'logExclude', message });
  };
  if (logExclude.length === 0) return problems;
  const text = formatLogClasses(log, logExclude);
  if (log.length === 0) {
    invalid(
      `pgaudit.log ${echo(text)}: exclusions with no included class log nothing (an exclusion only removes classes from those in log); include at least one class in log, or remove the exclusions`,
    );
    return problems;
  }
  if (logExclude.includes('ALL')) {
    invalid(`pgaudit.log ${echo(text)}: excluding ALL removes every class, so nothing would be logged; remove ALL from logExclude`);
    return problems;
  }
  for (const c of log) {
    if (logExclude.includes(c)) {
      invalid(`pgaudit.log ${echo(text)}: class ${c} is both included and excluded, so it would not be logged; remove it from log or from logExclude`);
    } else if (c === 'MISC_SET' && logExclude.includes('MISC')) {
      invalid(`pgaudit.log ${echo(text)}: class MISC_SET is included but excluded by MISC (MISC covers MISC_SET), so it would not be logged`);
    }
  }
  return problems;
}

function classListShapeProblems(field: 'log' | 'logExclude', list: unknown): SettingProblem[] {
  if (!Array.isArray(list)) {
    return [{ code: 'INVALID_SETTING', field, message: `pgaudit.log: ${field} must be a list of classes, got ${echoUnknown(list)}` }];
  }
  const problems: SettingProblem[] = [];
  for (const c of list) {
    if (!isAuditLogClass(c)) {
      problems.push({
        code: 'INVALID_SETTING',
        field,
        message: `pgaudit.log: unknown class ${echoUnknown(c)} in ${field} (allowed: ${AUDIT_LOG_CLASSES.join(', ')})`,
      });
    }
  }
  return problems;
}

/**
 * Every pgaudit.log problem of a normalised model: list shapes, pgaudit's list rules, and MISC_SET
 * on a server older than PostgreSQL 12 (in that order).
 */
export function classListProblems(n: AuditSettingsValue, caps: ServerCapabilities): SettingProblem[] {
  const logShape = classListShapeProblems('log', n.log);
  const excludeShape = classListShapeProblems('logExclude', n.logExclude);
  const problems = [...logShape, ...excludeShape];
  if (logShape.length > 0 || excludeShape.length > 0) return problems;
  problems.push(...logListProblems(n.log, n.logExclude));
  if (!(caps.serverVersionNum >= MISC_SET_MIN_SERVER_VERSION_NUM)) {
    const pgMajor = Math.floor(caps.serverVersionNum / 10000);
    for (const field of ['log', 'logExclude'] as const) {
      if (n[field].includes('MISC_SET')) {
        problems.push({
          code: 'SETTING_UNSUPPORTED',
          field,
          message: `pgaudit.log: class MISC_SET needs pgaudit 1.4 (PostgreSQL 12) or later; this server is PostgreSQL ${pgMajor} (server_version_num ${caps.serverVersionNum})`,
        });
      }
    }
  }
  return problems;
}
