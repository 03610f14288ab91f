import type { AuditEvent } from '../audit-events/event.document';
import { DEAD_LETTER_CODES } from '../audit-events/event.index';
import { lineShape, NO_REDACTOR, Redactor } from './redactor';
import { NO_REDACTION } from './redaction.rules';

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  id: 'id-1', serviceId: 's', timestamp: '2026-12-04T10:00:00.000Z', auditType: 'SESSION', statementId: 1, substatementId: 1,
  class: 'WRITE', command: 'INSERT', objectType: 'TABLE', objectName: 'public.cards',
  statement: "INSERT INTO cards VALUES ($1, 'hunter2', 42) -- alice@example.com", statementStatus: 'LOGGED',
  parameters: ['4111 1111 1111 1111', 'bob@example.com'], rows: 1, user: 'app', database: 'shop', sessionId: 'a.1', sessionLineNum: 3,
  applicationName: null, remoteHost: null, ...over });

describe('Redactor.event', () => {
  it('without rules leaves the event as it is', () => {
    const e = event();
    NO_REDACTOR.event(e);
    expect(e).toEqual(event());
  });

  it('masks literals and patterns, drops parameters, records what it did; never touches the id', () => {
    const e = event();
    new Redactor({ dropParameters: true, maskStringLiterals: true, maskNumericLiterals: true, patterns: ['EMAIL'] }, 7).event(e);
    expect(e).toEqual(event({ statement: "INSERT INTO cards VALUES ($1, '***', ***) -- [REDACTED:EMAIL]", parameters: null,
      redaction: { rulesVersion: 7, parametersDropped: true, literalsMasked: 2, patternsMasked: 1 } }));
  });

  it('masks patterns inside kept parameters', () => {
    const e = event();
    new Redactor({ ...NO_REDACTION, patterns: ['CARD_NUMBER', 'EMAIL'] }, 2).event(e);
    expect(e.parameters).toEqual(['[REDACTED:CARD_NUMBER]', '[REDACTED:EMAIL]']);
    expect(e.statement).toBe("INSERT INTO cards VALUES ($1, 'hunter2', 42) -- [REDACTED:EMAIL]");
    expect(e.redaction).toEqual({ rulesVersion: 2, parametersDropped: false, literalsMasked: 0, patternsMasked: 3 });
  });

  it('parameters pgaudit did not log are not reported as dropped; a statement not logged stays null', () => {
    const e = event({ parameters: null, statement: null, statementStatus: 'PREVIOUSLY_LOGGED' });
    new Redactor({ ...NO_REDACTION, dropParameters: true, maskStringLiterals: true }, 1).event(e);
    expect(e).toMatchObject({ parameters: null, statement: null, redaction: { parametersDropped: false, literalsMasked: 0 } });
  });
});

describe('Redactor.deadLetter', () => {
  const line = '2026-12-04 10:00:00.000 UTC,"app","shop",42,"AUDIT: SESSION,1,1,WRITE,INSERT,,,\'hunter2\' 4111111111111111 ålice 😀';

  it('keeps only the shape of the line, and a fixed reason, when the rules mask literals or drop parameters', () => {
    const r = new Redactor({ ...NO_REDACTION, maskStringLiterals: true }, 3);
    for (const code of DEAD_LETTER_CODES) {
      const d = r.deadLetter(code, `CLASS is not a class name: hunter2`, line);
      expect(d.reason).not.toContain('hunter2');
      expect(d.reason).toContain('redaction rules v3');
      expect(d.excerpt).not.toMatch(/hunter2|4111|ålice/);
    }
    expect(lineShape(line)).toBe('9999-99-99 99:99:99.999 xxx,"xxx","xxxx",99,"xxxxx: xxxxxxx,9,9,xxxxx,xxxxxx,,,\'xxxxxx9\' 9999999999999999 xxxxx x');
  });

  it('masks patterns only when the rules have nothing else; without rules changes nothing', () => {
    const r = new Redactor({ ...NO_REDACTION, patterns: ['CARD_NUMBER'] }, 4);
    expect(r.deadLetter('malformed', 'bad 4111111111111111', line)).toEqual({ reason: 'bad [REDACTED:CARD_NUMBER]',
      excerpt: line.replace('4111111111111111', '[REDACTED:CARD_NUMBER]') });
    expect(NO_REDACTOR.deadLetter('malformed', 'why', line)).toEqual({ reason: 'why', excerpt: line });
  });

  it('with patterns only, drops what was cut: a card number cut in half at the end of an excerpt or at … in a reason', () => {
    const r = new Redactor({ ...NO_REDACTION, patterns: ['CARD_NUMBER'] }, 4);
    const d = r.deadLetter('malformed_audit', 'STATEMENT_ID is not an integer: "card 4111 1111 1111 11…", ROWS "x"', 'INSERT card 4111 1111 1111 11', true);
    expect(d).toEqual({ reason: 'STATEMENT_ID is not an integer: "card…", ROWS "x"', excerpt: 'INSERT card…' });
    // not truncated: a short number at the end is kept
    expect(r.deadLetter('malformed', 'got 3', 'id 42', false)).toEqual({ reason: 'got 3', excerpt: 'id 42' });
  });
});
