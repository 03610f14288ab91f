import { splitCsvRow } from './csv-scan';

describe('splitCsvRow', () => {
  it('quoted fields with commas, doubled quotes and newlines; empty fields', () => {
    expect(splitCsvRow('a,"b,c","d""e","f\ng",,""')).toEqual({ ok: true, fields: ['a', 'b,c', 'd"e', 'f\ng', '', ''] });
    expect(splitCsvRow('')).toEqual({ ok: true, fields: [''] });
    expect(splitCsvRow('a,"b"x')).toMatchObject({ ok: false });
    expect(splitCsvRow('a,b"c')).toMatchObject({ ok: false });
    expect(splitCsvRow('a,"bc')).toMatchObject({ ok: false });
  });
});
