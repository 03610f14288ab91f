import { GraphQLDateTimeISO } from 'graphql-scalars';
import { DateTimeISO, isoString } from './graphql-date';

describe('DateTimeISO', () => {
  it('formats every date as toISOString does', () => {
    const dates = [0, 1, 999, 86_399_999, Date.UTC(2026, 11, 4, 15, 5, 5, 7), Date.UTC(999, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), -62_198_755_200_000, 8.64e15, -8.64e15];
    for (let i = 0; i < 20_000; i++) dates.push(Math.round((Math.random() - 0.3) * 4e13));
    for (const ms of dates) expect(isoString(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('is graphql-scalars\' DateTimeISO with the same SDL, input and output', () => {
    expect(DateTimeISO.toConfig().name).toBe(GraphQLDateTimeISO.name);
    expect(DateTimeISO.description).toBe(GraphQLDateTimeISO.description);
    for (const v of [new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), '2026-01-02T03:04:05.006Z', '2026-01-02T04:04:05+01:00', 1_767_323_045_006]) {
      expect(DateTimeISO.serialize(v)).toBe(GraphQLDateTimeISO.serialize(v));
    }
    for (const bad of [new Date(NaN), 'yesterday', true]) {
      expect(() => DateTimeISO.serialize(bad)).toThrow((() => { try { GraphQLDateTimeISO.serialize(bad); return ''; } catch (e) { return (e as Error).message; } })());
    }
    expect(DateTimeISO.parseValue('2026-01-02T03:04:05Z')).toEqual(GraphQLDateTimeISO.parseValue('2026-01-02T03:04:05Z'));
  });
});
