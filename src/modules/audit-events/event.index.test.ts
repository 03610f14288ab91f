import { DAILY_INDEX_SETTINGS, DATE_FORMAT, ID_LOOKUP_FILTER, INDEX_TEMPLATE, missingFields, refusesUnknownSetting, withoutSetting } from './event.index';
import { SESSION_INDEX_TEMPLATE } from './session.index';

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

describe('the _id lookup filter', () => {
  it('is on in every daily index the templates make (events, session events)', () => {
    expect(ID_LOOKUP_FILTER).toBe('index.optimize_doc_id_lookup.fuzzy_set.enabled');
    expect(DAILY_INDEX_SETTINGS[ID_LOOKUP_FILTER]).toBe(true);
    expect([INDEX_TEMPLATE, SESSION_INDEX_TEMPLATE].map((t) => (t.template.settings as Record<string, unknown>)[ID_LOOKUP_FILTER])).toEqual([true, true]);
  });

  it('withoutSetting drops that one setting and keeps the rest of the template', () => {
    const t = withoutSetting(INDEX_TEMPLATE, ID_LOOKUP_FILTER);
    expect(ID_LOOKUP_FILTER in t.template.settings).toBe(false);
    const { [ID_LOOKUP_FILTER]: _, ...rest } = DAILY_INDEX_SETTINGS;
    expect(t.template.settings).toEqual(rest);
    expect([t.template.mappings, t.index_patterns, t.priority]).toEqual([INDEX_TEMPLATE.template.mappings, INDEX_TEMPLATE.index_patterns, INDEX_TEMPLATE.priority]);
    expect(INDEX_TEMPLATE.template.settings[ID_LOOKUP_FILTER]).toBe(true);   // the original is not touched
  });

  it('recognises an older cluster\'s refusal of the setting, and nothing else', () => {
    // OpenSearch's answer (400) to a template holding a setting it does not know
    const reason = `unknown setting [${ID_LOOKUP_FILTER}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings`;
    const refusal = { error: { root_cause: [{ type: 'illegal_argument_exception', reason }], type: 'illegal_argument_exception', reason }, status: 400 };
    expect(refusesUnknownSetting(refusal, ID_LOOKUP_FILTER)).toBe(true);
    expect(refusesUnknownSetting({ error: { root_cause: [{ reason }] } }, ID_LOOKUP_FILTER)).toBe(true);
    const other = { error: { type: 'illegal_argument_exception', reason: 'unknown setting [index.sort.fields] did you mean [index.sort.field]?' }, status: 400 };
    expect(refusesUnknownSetting(other, ID_LOOKUP_FILTER)).toBe(false);
    for (const body of [null, undefined, '', 'unknown setting', { error: 'x' }, { error: { reason: 42 } }]) expect(refusesUnknownSetting(body, ID_LOOKUP_FILTER)).toBe(false);
  });
});
