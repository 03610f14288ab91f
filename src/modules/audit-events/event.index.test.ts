import { DATE_FORMAT, INDEX_TEMPLATE, missingFields } from './event.index';

describe('missingFields', () => {
  const wanted = { a: { type: 'keyword' }, b: { type: 'long' }, c: { type: 'date' } };

  it('gives each existing index the wanted fields it lacks, grouped by what they lack, and nothing it has', () => {
    const existing = {
      'i-2': { mappings: { properties: { a: { type: 'keyword' } } } },
      'i-1': { mappings: { properties: { a: { type: 'keyword' } } } },
      // a field it has keeps its mapping, however it differs
      'i-3': { mappings: { properties: { a: { type: 'text' }, b: { type: 'keyword' }, c: { type: 'date', format: 'x' } } } },
      'i-4': { mappings: {} },
      'i-5': {},
    };
    expect(missingFields(existing, wanted)).toEqual([
      { indices: ['i-1', 'i-2'], properties: { b: { type: 'long' }, c: { type: 'date' } } },
      { indices: ['i-4', 'i-5'], properties: wanted },
    ]);
  });

  it('nothing when no index exists or every index has every field', () => {
    expect(missingFields({}, wanted)).toEqual([]);
    expect(missingFields({ x: { mappings: { properties: { ...wanted } } } }, wanted)).toEqual([]);
  });
});

describe('INDEX_TEMPLATE', () => {
  const p = INDEX_TEMPLATE.template.mappings.properties;

  it('indexes what a query filters, sorts, groups or searches; keeps the rest in _source only', () => {
    for (const f of ['serviceId', 'auditType', 'class', 'command', 'objectName', 'user', 'database', 'sessionId']) expect(p[f as keyof typeof p]).toEqual({ type: 'keyword' });
    // sorted on, never filtered: doc values only (a lookup by id asks _id)
    expect([p.id, p.tiebreak]).toEqual([{ type: 'keyword', index: false }, { type: 'long', index: false }]);
    expect(p.statement).toEqual({ type: 'text', analyzer: 'standard', norms: false });   // nothing is scored
    for (const f of ['projectId', 'organizationId', 'objectType', 'statementStatus', 'parameters', 'applicationName', 'remoteHost']) {
      expect(p[f as keyof typeof p]).toEqual({ type: 'keyword', index: false, doc_values: false });
    }
    for (const f of ['statementId', 'substatementId', 'rows', 'sessionLineNum']) expect(p[f as keyof typeof p]).toEqual({ type: 'long', index: false, doc_values: false });
    expect(p.redaction).toEqual({ type: 'object', enabled: false });
  });

  it('parses its dates by the canonical pattern first, any ISO-8601 form after it', () => {
    expect(DATE_FORMAT).toBe("uuuu-MM-dd'T'HH:mm:ss.SSSX||strict_date_optional_time");
    expect([p.timestamp, p.ingestedAt]).toEqual([{ type: 'date', format: DATE_FORMAT }, { type: 'date', format: DATE_FORMAT }]);
  });
});
