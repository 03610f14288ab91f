import { diffRules, NO_REDACTION, rulesFromStored, validateRules } from './redaction.rules';
import { RedactionError } from './redaction.errors';

const ALL_ON = { dropParameters: true, maskStringLiterals: true, maskNumericLiterals: true, patterns: ['EMAIL', 'CARD_NUMBER'] };

describe('validateRules', () => {
  it('accepts rules and writes patterns in the table\'s order', () => {
    expect(validateRules(ALL_ON)).toEqual({ ok: true, rules: { ...ALL_ON, patterns: ['CARD_NUMBER', 'EMAIL'] } });
    expect(validateRules({ ...NO_REDACTION })).toEqual({ ok: true, rules: NO_REDACTION });
  });

  const BAD: [string, Record<string, unknown>, string[]][] = [
    ['an unknown pattern', { ...ALL_ON, patterns: ['SSN'] }, ['input', 'rules', 'patterns']],
    ['a pattern named twice', { ...ALL_ON, patterns: ['EMAIL', 'EMAIL'] }, ['input', 'rules', 'patterns']],
    ['too many patterns', { ...ALL_ON, patterns: ['EMAIL', 'JWT', 'CARD_NUMBER', 'AWS_ACCESS_KEY_ID', 'EMAIL'] }, ['input', 'rules', 'patterns']],
    ['patterns not a list', { ...ALL_ON, patterns: 'EMAIL' }, ['input', 'rules', 'patterns']],
    ['a flag not a boolean', { ...ALL_ON, dropParameters: 'yes' }, ['input', 'rules', 'dropParameters']],
    ['a flag missing', { ...ALL_ON, maskNumericLiterals: undefined }, ['input', 'rules', 'maskNumericLiterals']],
  ];
  it.each(BAD)('refuses %s with INVALID_RULES naming the field', (_name, rules, field) => {
    const v = validateRules(rules as Parameters<typeof validateRules>[0]);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors).toContainEqual(expect.objectContaining({ code: 'INVALID_RULES', field }));
  });
});

describe('diffRules', () => {
  it('names each changed rule with its values before and after', () => {
    expect(diffRules(NO_REDACTION, { ...NO_REDACTION, dropParameters: true, patterns: ['CARD_NUMBER', 'EMAIL'] })).toEqual([
      { rule: 'dropParameters', from: 'false', to: 'true' }, { rule: 'patterns', from: '', to: 'CARD_NUMBER,EMAIL' }]);
    expect(diffRules(NO_REDACTION, NO_REDACTION)).toEqual([]);
  });
});

describe('rulesFromStored', () => {
  it('reads what was stored, and refuses what this version cannot apply whole', () => {
    expect(rulesFromStored(JSON.parse(JSON.stringify(validateRules(ALL_ON))).rules)).toEqual({ ...ALL_ON, patterns: ['CARD_NUMBER', 'EMAIL'] });
    for (const bad of [null, [], 'x', { ...ALL_ON, patterns: ['FUTURE'] }, { ...ALL_ON, maskIdentifiers: true }, { dropParameters: true }]) {
      expect(() => rulesFromStored(bad)).toThrow(RedactionError);
    }
  });
});
