import { DAILY_INDEX_SETTINGS, INDEX_TEMPLATE } from '../src/modules/audit-events/event.index';
import { PEER_INDEX_TEMPLATE } from './rsyslog-report';
import {
  bulkBodies, docValuesCandidates, INGESTER_BULK, LeverRun, leverMarkdown, leverVariants, parseLeverOptions, queryMarkdown, roundOrder, roundPlan, roundsMarkdown,
  selectVariants, SORTED_OR_AGGREGATED, storedOnlyFields, summarizeLevers, timeOrderedId, withoutNulls,
} from './index-levers-report';

const variants = leverVariants();
const byName = (name: string) => variants.find((v) => v.name === name)!;
const base = byName('baseline');

/** The keys of `a` and `b` whose values differ (a shallow diff of two variants' parts). */
const changed = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();

describe('leverVariants', () => {
  it('has the product\'s template, documents, ids and bulk as its baseline', () => {
    expect(base.settings).toEqual(DAILY_INDEX_SETTINGS);
    expect(base.mappings).toEqual(INDEX_TEMPLATE.template.mappings);
    expect(base).toMatchObject({ source: 'event', ids: true, batch: 2000, inFlight: 3 });
    expect(INGESTER_BULK).toEqual({ batch: 2000, inFlight: 3 });
  });

  /** What variant `name` changes from the baseline: settings, mapped properties, anything else. */
  const diff = (name: string) => {
    const v = byName(name);
    const { name: _n, lever: _l, settings, mappings, ...rest } = v;
    const { name: _bn, lever: _bl, settings: bs, mappings: bm, ...brest } = base;
    return { settings: changed(settings, bs), properties: changed(mappings.properties, bm.properties), other: changed(rest, brest) };
  };

  it('changes one thing per variant (combined and the raw peer aside)', () => {
    expect(diff('no-sort')).toEqual({ settings: ['index.sort.field', 'index.sort.missing', 'index.sort.order'], properties: [], other: [] });
    expect(diff('no-terms')).toEqual({ settings: [], properties: ['searchTerms'], other: ['source'] });
    expect(diff('statement-norms')).toEqual({ settings: [], properties: ['statement'], other: [] });
    expect(byName('statement-norms').mappings.properties.statement).toEqual({ type: 'text', analyzer: 'standard' });
    expect(byName('statement-freqs').mappings.properties.statement).toEqual({ type: 'text', analyzer: 'standard', norms: false, index_options: 'freqs' });
    expect(diff('refresh-30s')).toEqual({ settings: ['refresh_interval'], properties: [], other: [] });
    expect(diff('refresh-off-load')).toEqual({ settings: [], properties: [], other: ['loadRefresh'] });
    expect(byName('refresh-off-load').loadRefresh).toBe('-1');
    expect(diff('source-no-nulls')).toEqual({ settings: [], properties: [], other: ['source'] });
    expect(diff('bulk-5000x3')).toEqual({ settings: [], properties: [], other: ['batch'] });
    expect(diff('bulk-2000x2').other).toEqual(['inFlight']);
    expect(byName('bulk-2000x4').inFlight).toBe(4);
    expect(diff('auto-ids')).toEqual({ settings: [], properties: [], other: ['ids'] });
  });

  it('turns doc values off only on keyword fields no query sorts or aggregates on', () => {
    expect(SORTED_OR_AGGREGATED).toEqual(['timestamp', 'tiebreak', 'id', 'ingestedAt', 'class', 'command', 'user', 'database', 'objectName', 'auditType']);
    const off = docValuesCandidates(base.mappings);
    // the fields only shown are stored-only already (event.index.ts): no doc values to turn off
    expect(off).toEqual(['serviceId', 'sessionId']);
    const p = byName('no-doc-values').mappings.properties;
    for (const f of off) expect(p[f]).toEqual({ type: 'keyword', doc_values: false });
    expect(p.class).toEqual({ type: 'keyword' });
    expect(base.mappings.properties.serviceId).toEqual({ type: 'keyword' });   // the baseline is not touched
  });

  it('undoes issue 15\'s two levers: the dates\' fixed pattern, the stored-only fields; leads ids by their time', () => {
    const stored = ['projectId', 'organizationId', 'statementId', 'substatementId', 'objectType', 'statementStatus', 'rows', 'sessionLineNum',
      'applicationName', 'remoteHost', 'redaction'];
    expect(storedOnlyFields(base.mappings)).toEqual(stored);
    expect(diff('all-indexed')).toEqual({ settings: [], properties: [...stored].sort(), other: [] });
    const all = byName('all-indexed').mappings.properties;
    expect([all.projectId, all.rows, all.remoteHost]).toEqual([{ type: 'keyword' }, { type: 'long' }, { type: 'keyword' }]);
    expect(all.redaction).toEqual({ properties: { rulesVersion: { type: 'long' }, parametersDropped: { type: 'boolean' }, literalsMasked: { type: 'long' },
      patternsMasked: { type: 'long' } } });
    expect(all.parameters).toEqual({ type: 'keyword', index: false, doc_values: false });   // never indexed
    expect(diff('iso-dates')).toEqual({ settings: [], properties: ['ingestedAt', 'timestamp'], other: [] });
    expect(byName('iso-dates').mappings.properties.timestamp).toEqual({ type: 'date', format: 'strict_date_optional_time' });
    expect(diff('before-15').properties).toEqual([...stored, 'id', 'ingestedAt', 'statement', 'tiebreak', 'timestamp'].sort());
    expect(diff('time-ids')).toEqual({ settings: [], properties: [], other: ['idForm'] });
    expect(diff('indexed-keys')).toEqual({ settings: [], properties: ['id', 'tiebreak'], other: [] });
    expect(byName('indexed-keys').mappings.properties.id).toEqual({ type: 'keyword' });
    expect(diff('no-id-bloom')).toEqual({ settings: ['index.optimize_doc_id_lookup.fuzzy_set.enabled'], properties: [], other: [] });
    expect(diff('before-15').settings).toEqual(['index.optimize_doc_id_lookup.fuzzy_set.enabled']);
    expect(diff('asc-sort')).toEqual({ settings: ['index.sort.missing', 'index.sort.order'], properties: [], other: [] });
    const a = timeOrderedId('2026-10-01T00:00:00.000Z', 'VisYhOy1GSzdzFKIKChxCrABpE-IhKO6');
    const b = timeOrderedId('2026-10-01T00:00:00.001Z', 'AAAAhOy1GSzdzFKIKChxCrABpE-IhKO6');
    expect(a).toBe(`${Date.parse('2026-10-01T00:00:00.000Z').toString(16).padStart(12, '0')}VisYhOy1GSzdzFKIKChx`);
    expect([a.length, a < b]).toEqual([32, true]);
  });

  it('combines the levers 2-6 and keeps the rest of the baseline', () => {
    const c = byName('combined');
    expect(Object.keys(c.settings).some((k) => k.startsWith('index.sort'))).toBe(false);
    expect(c.settings.refresh_interval).toBe('30s');
    expect(c.mappings.properties.searchTerms).toBeUndefined();
    expect(c.mappings.properties.statement).toMatchObject({ norms: false, index_options: 'freqs' });
    expect(c.mappings.properties.sessionId).toEqual({ type: 'keyword', doc_values: false });
    expect(c).toMatchObject({ source: 'event-without-terms', ids: true, batch: 2000, inFlight: 3 });
  });

  it('indexes the raw peer\'s lines into the rawbench template, without ids', () => {
    const raw = byName('raw-lines');
    expect(raw.settings).toEqual(PEER_INDEX_TEMPLATE.template.settings);
    expect(raw.mappings).toEqual(PEER_INDEX_TEMPLATE.template.mappings);
    expect(raw).toMatchObject({ source: 'raw-line', ids: false, batch: 2000, inFlight: 3 });
  });

  it('has unique names, the baseline first', () => {
    expect(new Set(variants.map((v) => v.name)).size).toBe(variants.length);
    expect(variants[0]!.name).toBe('baseline');
    expect(selectVariants(variants, /bulk/).map((v) => v.name)).toEqual(['baseline', 'bulk-5000x3', 'bulk-2000x2', 'bulk-2000x4']);
    expect(selectVariants(variants, null)).toHaveLength(variants.length);
  });
});

describe('roundOrder', () => {
  it('rotates by one per round', () => {
    expect(roundOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(roundOrder(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(roundOrder(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(roundOrder([], 3)).toEqual([]);
  });
});

describe('roundPlan', () => {
  const vs = ['baseline', 'a', 'b', 'c', 'd'].map((name) => ({ name }));
  const names = (r: number, every: number) => roundPlan(vs, r, every).map((v) => v.name).join(' ');
  it('brackets every `every` variants with baseline runs, the others rotated per round', () => {
    expect(names(0, 2)).toBe('baseline a b baseline c d baseline');
    expect(names(1, 2)).toBe('baseline b c baseline d a baseline');
    expect(names(0, 3)).toBe('baseline a b c baseline d baseline');
    expect(names(0, 1)).toBe('baseline a baseline b baseline c baseline d baseline');
    expect(roundPlan([{ name: 'a' }, { name: 'b' }], 1, 3).map((v) => v.name)).toEqual(['b', 'a']);
  });
});

describe('bulkBodies', () => {
  it('cuts the documents into bodies of `batch` create actions, with or without ids', () => {
    const b = bulkBodies('i-1', ['{"a":1}', '{"a":2}', '{"a":3}'], ['x', 'y', 'z'], 2);
    expect(b).toEqual(['{"create":{"_index":"i-1","_id":"x"}}\n{"a":1}\n{"create":{"_index":"i-1","_id":"y"}}\n{"a":2}\n',
      '{"create":{"_index":"i-1","_id":"z"}}\n{"a":3}\n']);
    expect(bulkBodies('i', ['{}'], null, 2000)).toEqual(['{"create":{"_index":"i"}}\n{}\n']);
    expect(() => bulkBodies('i', ['{}'], [], 1)).toThrow(/0 ids for 1 sources/);
  });
});

describe('withoutNulls', () => {
  it('drops the null fields only', () => {
    expect(withoutNulls('{"a":null,"b":[],"c":0,"d":"","e":{"f":null}}')).toBe('{"b":[],"c":0,"d":"","e":{"f":null}}');
  });
});

describe('parseLeverOptions', () => {
  it('defaults and flags', () => {
    expect(parseLeverOptions([])).toMatchObject({ events: 200_000, rounds: 3, only: null, warmupSeconds: 30, queryRepetitions: 100, opensearchHeapMb: 2048 });
    const o = parseLeverOptions(['--events', '20k', '--rounds', '1', '--only', 'sort|terms', '--warmup-seconds', '0', '--queries', '0']);
    expect(o).toMatchObject({ events: 20_000, rounds: 1, warmupSeconds: 0, queryRepetitions: 0 });
    expect(o.only!.test('no-sort')).toBe(true);
  });

  it('refuses unknown options and bad counts', () => {
    expect(() => parseLeverOptions(['--event', '20k'])).toThrow(/unknown option --event/);
    expect(() => parseLeverOptions(['--events', '20q'])).toThrow(/not a number/);
    expect(() => parseLeverOptions(['--events', '500'])).toThrow(/at least 1000/);
    expect(() => parseLeverOptions(['--rounds', '0'])).toThrow(/at least 1/);
  });
});

describe('summarizeLevers and the report', () => {
  let seq = 0;
  const run = (variant: string, round: number, cpuSeconds: number, bulkSeconds: number, bytes: number | null, docs = 1000): LeverRun =>
    ({ variant, round, seq: seq++, docs, events: 1000, sourceBytes: 700, bulkSeconds, windowSeconds: bulkSeconds + 1, cpuSeconds, bytes, load: 2 + round });
  const runs = [
    run('baseline', 0, 0.1, 1, 500_000), run('no-sort', 0, 0.08, 0.5, 450_000), run('raw-lines', 0, 0.06, 0.5, 300_000, 1200),
    run('baseline', 0, 0.1, 1, null),
    run('baseline', 1, 0.2, 2, null), run('no-sort', 1, 0.1, 1, null), run('baseline', 1, 0.3, 2, null),
  ];
  const vs = [{ name: 'baseline', lever: 'now' }, { name: 'no-sort', lever: 'no sort' }, { name: 'raw-lines', lever: 'raw' }, { name: 'absent', lever: '-' }];
  const s = summarizeLevers(vs, runs);

  it('takes medians, ratios against the bracketing baseline runs, bytes from the sized run', () => {
    expect(s.map((x) => x.variant)).toEqual(['baseline', 'no-sort', 'raw-lines']);
    expect(s[0]!.runs).toBe(4);
    const ns = s[1]!;
    expect(ns.cpuUsPerEvent).toBeCloseTo(80);        // median of 80 and 100 (nearest rank: the lower)
    expect(ns.cpuRatio).toBeCloseTo(0.4);             // 80 / mean(100, 100) = 0.8, 100 / mean(200, 300) = 0.4
    expect(ns.rateRatio).toBeCloseTo(2);
    expect(ns.bytesPerEvent).toBe(450);
    expect(ns.bytesRatio).toBeCloseTo(0.9);
    const raw = s[2]!;
    expect(raw.cpuUsPerDoc).toBeCloseTo(50);
    expect(raw.cpuUsPerEvent).toBeCloseTo(60);
    expect(raw.bytesPerDoc).toBe(250);
    expect(raw.cpuRatio).toBeCloseTo(0.6);
  });

  it('renders the tables', () => {
    const t = leverMarkdown(s);
    expect(t.split('\n')).toHaveLength(2 + 3);
    expect(t).toContain('| **baseline** | now | 1,000 | 700 | 100.0 | 100.0 | 1.00x | 500 | 1.00x | 500 | 1.00x | 2.0 |');   // medians of 4 runs (lower)
    expect(t).toContain('| raw-lines | raw | 1,200 (1,000) | 700 | 50.0 | 60.0 | 0.60x | 2,000 | 2.00x | 300 | 0.60x | 1.5 |');
    const r = roundsMarkdown(runs);
    expect(r).toContain('| no-sort | 80.0, 2,000 (2.0) | 100.0, 1,000 (3.0) |');
    expect(r).toContain('| baseline | 100.0, 1,000 (2.0); 100.0, 1,000 (2.0) | 200.0, 500 (3.0); 300.0, 500 (3.0) |');
    expect(r).toContain('| raw-lines | 60.0, 2,000 (2.0) | - |');
    expect(queryMarkdown([{ variant: 'baseline', samplesMs: [3, 1, 2] }])).toContain('| baseline | 3 | 2.00 | 3.00 | 3.00 |');
  });
});
