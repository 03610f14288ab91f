import { maskPatterns, PATTERN_NAMES, PATTERNS, PatternName } from './pattern.detectors';

const C = PATTERNS.CARD_NUMBER.mask, E = PATTERNS.EMAIL.mask, J = PATTERNS.JWT.mask, A = PATTERNS.AWS_ACCESS_KEY_ID.mask;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

/** [pattern, input, expected]. */
const CASES: [PatternName, string, string][] = [
  // card numbers: whole, grouped by spaces or dashes, every common length and issuer
  ['CARD_NUMBER', 'card 4111111111111111 ok', `card ${C} ok`],
  ['CARD_NUMBER', '4111 1111 1111 1111', C],
  ['CARD_NUMBER', '4111-1111-1111-1111', C],
  ['CARD_NUMBER', '4111 1111-1111 1111', C],
  ['CARD_NUMBER', "'5500005555555559'", `'${C}'`],
  ['CARD_NUMBER', '3782 822463 10005', C],                // Amex, 15
  ['CARD_NUMBER', '6011111111111117', C],                 // Discover
  ['CARD_NUMBER', '4222222222222', C],                    // 13 digits
  ['CARD_NUMBER', '30569309025904', C],                   // Diners, 14
  ['CARD_NUMBER', '6304000000000000000', C],                // 19 digits (Maestro)
  ['CARD_NUMBER', '6304000000000000001', '6304000000000000001'],   // 19 digits, Luhn fails: kept
  ['CARD_NUMBER', 'x4111111111111111y', `x${C}y`],
  ['CARD_NUMBER', 'a 4111 1111 1111 1111 5', `a ${C} 5`],  // the longest valid run of groups
  ['CARD_NUMBER', '5 4111 1111 1111 1111', `5 ${C}`],
  ['CARD_NUMBER', '4111111111111111,4111111111111111', `${C},${C}`],
  // not cards
  ['CARD_NUMBER', '4111111111111112', '4111111111111112'],               // Luhn fails
  ['CARD_NUMBER', '1733322222123', '1733322222123'],                     // starts with 1 (an epoch in ms)
  ['CARD_NUMBER', '94111111111111111', '94111111111111111'],             // inside a longer number
  ['CARD_NUMBER', '41111111111111110000', '41111111111111110000'],
  ['CARD_NUMBER', '4111  1111 1111 1111', '4111  1111 1111 1111'],       // two spaces: separate numbers
  ['CARD_NUMBER', '4111.1111.1111.1111', '4111.1111.1111.1111'],          // dots: not a separator here
  ['CARD_NUMBER', '411111111111', '411111111111'],                       // 12 digits
  ['CARD_NUMBER', '', ''],
  // e-mail
  ['EMAIL', 'mail alice@example.com now', `mail ${E} now`],
  ['EMAIL', "'first.last+tag@mail.example.co.uk'", `'${E}'`],
  ['EMAIL', 'a@b.cc,c@d.ee', `${E},${E}`],
  ['EMAIL', 'end alice@example.com.', `end ${E}.`],
  ['EMAIL', 'no @ here, x@y, x@y.c, x@.com, @example.com', 'no @ here, x@y, x@y.c, x@.com, @example.com'],
  ['EMAIL', 'x@y.c1', 'x@y.c1'],
  ['EMAIL', 'a@b@example.org', `a@${E}`],
  // JWT
  ['JWT', `Bearer ${JWT}`, `Bearer ${J}`],
  ['JWT', `'${JWT}'`, `'${J}'`],
  ['JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', J],     // alg none: empty signature
  ['JWT', 'eyJ no token, eyJabc.x.y, xeyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', 'eyJ no token, eyJabc.x.y, xeyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
  // AWS access key ids
  ['AWS_ACCESS_KEY_ID', 'key AKIAIOSFODNN7EXAMPLE.', `key ${A}.`],
  ['AWS_ACCESS_KEY_ID', 'ASIAIOSFODNN7EXAMPLE', A],
  ['AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPL XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX', 'AKIAIOSFODNN7EXAMPL XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX'],
];

describe('maskPatterns', () => {
  it.each(CASES)('%s: %j', (pattern, input, expected) => {
    expect(maskPatterns(input, [pattern]).text).toBe(expected);
  });

  it('counts and merges what several detectors find', () => {
    expect(maskPatterns(`4111111111111111 alice@example.com ${JWT}`, PATTERN_NAMES)).toEqual({ text: `${C} ${E} ${J}`, masked: 3 });
    // an address made of a card number: one mask
    expect(maskPatterns('4111111111111111@example.com', PATTERN_NAMES)).toEqual({ text: E, masked: 1 });
    expect(maskPatterns('nothing here', PATTERN_NAMES)).toEqual({ text: 'nothing here', masked: 0 });
    expect(maskPatterns('4111111111111111', [])).toEqual({ text: '4111111111111111', masked: 0 });
  });

  it('hostile input never throws and stays linear', () => {
    const sizes = [20_000, 160_000];
    const best = (s: string) => Math.min(...[0, 1, 2].map(() => { const t0 = performance.now(); maskPatterns(s, PATTERN_NAMES); return performance.now() - t0; }));
    for (const unit of ['4', '4 ', '4-', '41111 ', 'a@', 'a@b', 'a.@', '@a.', 'eyJ', 'eyJa.', 'eyJaaaa.aaaa', 'AKIA', 'a@b.cc ']) {
      const [small, large] = sizes.map((n) => best(unit.repeat(Math.ceil(n / unit.length))));
      expect({ unit, slow: large! > Math.max(40 * small!, 300) }).toEqual({ unit, slow: false });
    }
    for (const h of ['\ud800', '\u0000', '@', '.', '-', ' ', 'eyJ.', 'eyJ..']) expect(() => maskPatterns(h.repeat(3), PATTERN_NAMES)).not.toThrow();
  });
});
