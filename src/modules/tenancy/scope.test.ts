import { ALL_SCOPES, knownScopes, parseScopes } from './scope';

describe('parseScopes', () => {
  it('reads a comma-separated list into the table order, ignoring blanks and repeats', () => {
    expect(parseScopes('write:policy, read:events,,read:events')).toEqual({ scopes: ['read:events', 'write:policy'] });
    expect(parseScopes('read:policy')).toEqual({ scopes: ['read:policy'] });
    expect(parseScopes('')).toEqual({ scopes: [] });
  });

  it('names the first unknown scope (names are exact: no case folding, no wildcards)', () => {
    expect(parseScopes('read:events,admin')).toEqual({ unknown: 'admin' });
    expect(parseScopes('READ:EVENTS')).toEqual({ unknown: 'READ:EVENTS' });
    expect(parseScopes('*')).toEqual({ unknown: '*' });
    expect(parseScopes('toString')).toEqual({ unknown: 'toString' });
  });
});

describe('knownScopes', () => {
  it('keeps only known names, in table order', () => {
    expect(knownScopes(['write:policy', 'future:thing', 'read:events'])).toEqual(['read:events', 'write:policy']);
    expect(knownScopes(['read:events', 'read:policy', 'write:policy'])).toEqual(ALL_SCOPES);
  });
});
