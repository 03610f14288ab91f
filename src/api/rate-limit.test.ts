import { ApiError, ApiErrorCode } from './error-map';
import { AddressThrottle, addressKey, clientAddress, LeakyBuckets, TokenThrottle } from './rate-limit';

/** A clock the test moves by hand (milliseconds). */
function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, advance: (seconds: number) => { t += seconds * 1000; } };
}

describe('LeakyBuckets', () => {
  it('starts full, takes what a request costs, restores at its rate and never above its size', () => {
    const clock = fakeClock();
    const b = new LeakyBuckets(100, 10, 1000, clock.now);
    expect(b.status('a')).toEqual({ maximumAvailable: 100, currentlyAvailable: 100, restoreRate: 10 });
    expect(b.take('a', 30)).toEqual({ allowed: true, status: { maximumAvailable: 100, currentlyAvailable: 70, restoreRate: 10 } });
    clock.advance(1.5);
    expect(b.status('a').currentlyAvailable).toBe(85);
    clock.advance(60);
    expect(b.status('a').currentlyAvailable).toBe(100);
    expect(b.size).toBe(1);
    b.take('a', 0);
    expect(b.size).toBe(0);   // a full bucket is not kept
  });

  it('refuses a request that costs more than the bucket holds, takes nothing, and says when to retry (whole seconds, rounded up)', () => {
    const clock = fakeClock();
    const b = new LeakyBuckets(100, 3, 1000, clock.now);
    b.take('a', 95);
    const refused = b.take('a', 10);
    expect(refused).toEqual({ allowed: false, status: { maximumAvailable: 100, currentlyAvailable: 5, restoreRate: 3 }, retryAfterSeconds: 2 });   // 5/3 s -> 2
    expect(b.status('a').currentlyAvailable).toBe(5);   // the refusal took nothing
    clock.advance(1);
    expect(b.take('a', 10)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });   // 2/3 s -> 1
    clock.advance(1);
    expect(b.take('a', 10)).toMatchObject({ allowed: true, status: { currentlyAvailable: 1 } });
  });

  it('never answers a retry of 0 s, and a very slow bucket gives a long but finite retry', () => {
    const clock = fakeClock();
    const b = new LeakyBuckets(10, 0.001, 1000, clock.now);
    b.take('a', 10);
    clock.advance(0.5);   // 0.0005 points back
    expect(b.take('a', 1)).toMatchObject({ allowed: false, retryAfterSeconds: 1000 });   // 0.9995 / 0.001 = 999.5 -> 1000
    expect(b.take('a', 0.0001)).toMatchObject({ allowed: true });
    expect(b.take('a', 0.001)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
  });

  it('counts a cost over the bucket size as the whole bucket', () => {
    const clock = fakeClock();
    const b = new LeakyBuckets(100, 10, 1000, clock.now);
    expect(b.take('a', 250)).toMatchObject({ allowed: true, status: { currentlyAvailable: 0 } });
    expect(b.take('a', 250)).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
  });

  it('keeps each key apart', () => {
    const b = new LeakyBuckets(100, 1, 1000, fakeClock().now);
    b.take('a', 100);
    expect(b.take('a', 1).allowed).toBe(false);
    expect(b.take('b', 100).allowed).toBe(true);
  });

  it('charge goes below zero (owed points) and restores from there; peek takes nothing', () => {
    const clock = fakeClock();
    const b = new LeakyBuckets(2, 1, 1000, clock.now);
    expect(b.peek('a', 1)).toMatchObject({ allowed: true, status: { currentlyAvailable: 2 } });
    for (let i = 0; i < 5; i++) b.charge('a', 1);
    expect(b.peek('a', 1)).toEqual({ allowed: false, status: { maximumAvailable: 2, currentlyAvailable: 0, restoreRate: 1 }, retryAfterSeconds: 4 });
    clock.advance(4);
    expect(b.peek('a', 1).allowed).toBe(true);
  });

  it('keeps at most maxKeys buckets: the least recently used is forgotten and starts full again', () => {
    const b = new LeakyBuckets(10, 0.001, 2, fakeClock().now);
    b.take('a', 10);
    b.take('b', 10);
    b.status('a');          // a used more recently than b
    b.take('c', 10);        // a third key: b goes
    expect(b.size).toBe(2);
    expect(b.status('a').currentlyAvailable).toBe(0);
    expect(b.status('b').currentlyAvailable).toBe(10);
    expect(b.status('c').currentlyAvailable).toBe(0);
  });
});

describe('TokenThrottle', () => {
  it('charges at least 1 point and refuses with RATE_LIMITED, 429, Retry-After and the bucket in extensions', () => {
    const recorded: string[] = [];
    const t = new TokenThrottle(new LeakyBuckets(10, 0.5, 100, fakeClock().now), (kind) => recorded.push(kind));
    expect(t.charge('tok', 0, () => ({})).currentlyAvailable).toBe(9);
    expect(t.charge('tok', 9, () => ({})).currentlyAvailable).toBe(0);
    let error: ApiError | undefined;
    try { t.charge('tok', 3, (status) => ({ cost: { requestedQueryCost: 3, throttleStatus: status } })); } catch (e) { error = e as ApiError; }
    expect(error).toBeInstanceOf(ApiError);
    expect(error!.code).toBe(ApiErrorCode.RATE_LIMITED);
    const { http, ...extensions } = error!.extensions as { http: { status: number; headers: Map<string, string> } };
    expect(http.status).toBe(429);
    expect(http.headers.get('retry-after')).toBe('6');
    expect(extensions).toEqual({ code: 'RATE_LIMITED', limitedBy: 'token', retryAfterSeconds: 6,
      throttleStatus: { maximumAvailable: 10, currentlyAvailable: 0, restoreRate: 0.5 },
      cost: { requestedQueryCost: 3, throttleStatus: { maximumAvailable: 10, currentlyAvailable: 0, restoreRate: 0.5 } } });
    expect(recorded).toEqual(['token']);
  });

  it('spend: takes work already done whatever the bucket holds (an export\'s pages); the debt refuses the token until restored', () => {
    const clock = fakeClock();
    const t = new TokenThrottle(new LeakyBuckets(10, 1, 100, clock.now));
    t.spend('tok', 4);
    expect(t.status('tok').currentlyAvailable).toBe(6);
    t.spend('tok', 20);                                 // 14 owed
    expect(t.status('tok').currentlyAvailable).toBe(0);
    expect(() => t.admit('tok')).toThrow(expect.objectContaining({ code: ApiErrorCode.RATE_LIMITED }));
    t.spend('tok', 0);                                  // nothing to pay: nothing taken
    clock.advance(15);                                  // 15 points restored: 1 available
    expect(t.status('tok').currentlyAvailable).toBe(1);
    expect(() => t.admit('tok')).not.toThrow();
  });

  it('admit: refuses a token whose bucket holds less than one point, before its request is parsed, and takes nothing', () => {
    const recorded: string[] = [];
    const clock = fakeClock();
    const t = new TokenThrottle(new LeakyBuckets(10, 0.5, 100, clock.now), (kind) => recorded.push(kind));
    t.admit('tok');                                   // full: admitted, nothing taken
    expect(t.status('tok').currentlyAvailable).toBe(10);
    t.charge('tok', 9.5, () => ({}));                 // 0.5 left: less than a point
    let error: ApiError | undefined;
    try { t.admit('tok'); } catch (e) { error = e as ApiError; }
    expect(error!.code).toBe(ApiErrorCode.RATE_LIMITED);
    expect((error!.extensions as { retryAfterSeconds: number }).retryAfterSeconds).toBe(1);   // 0.5 point at 0.5/s
    expect(recorded).toEqual(['token']);
    clock.advance(1);
    expect(() => t.admit('tok')).not.toThrow();
    t.admit('other');                                 // another key is not affected
  });
});

describe('AddressThrottle', () => {
  const unauthenticated = () => Promise.reject(new ApiError(ApiErrorCode.UNAUTHENTICATED, 'no'));

  it('counts failed authentications only, and refuses before authenticating once the bucket is empty', async () => {
    const recorded: string[] = [];
    const a = new AddressThrottle(new LeakyBuckets(2, 0.001, 100, fakeClock().now), (kind) => recorded.push(kind));
    let lookups = 0;
    const valid = async () => { lookups++; return 'principal'; };
    const bogus = async () => { lookups++; return unauthenticated(); };
    for (let i = 0; i < 5; i++) await expect(a.authenticate('1.2.3.4', valid)).resolves.toBe('principal');
    await expect(a.authenticate('1.2.3.4', bogus)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(a.authenticate('1.2.3.4', () => Promise.reject(new ApiError(ApiErrorCode.INTERNAL_SERVER_ERROR, 'db down')))).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    await expect(a.authenticate('1.2.3.4', bogus)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(lookups).toBe(7);
    await expect(a.authenticate('1.2.3.4', bogus)).rejects.toMatchObject({ code: 'RATE_LIMITED', extensions: { limitedBy: 'address', retryAfterSeconds: 1000 } });
    await expect(a.authenticate('1.2.3.4', valid)).rejects.toMatchObject({ code: 'RATE_LIMITED' });   // the lookup it saves is what tells them apart
    expect(lookups).toBe(7);
    await expect(a.authenticate('5.6.7.8', valid)).resolves.toBe('principal');   // another address is not affected
    expect(recorded).toEqual(['address', 'address']);
  });

  it('owes the points of lookups that were in flight when the bucket emptied', async () => {
    const clock = fakeClock();
    const a = new AddressThrottle(new LeakyBuckets(2, 1, 100, clock.now));
    await Promise.allSettled(Array.from({ length: 5 }, () => a.authenticate('1.2.3.4', unauthenticated)));
    expect(a.buckets.peek('1.2.3.4', 1)).toMatchObject({ allowed: false, retryAfterSeconds: 4 });
  });
});

describe('client address', () => {
  it('is the socket peer unless proxies are trusted; then the address that many hops back in X-Forwarded-For', () => {
    expect(clientAddress('10.0.0.1', '6.6.6.6', 0)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '6.6.6.6, 1.2.3.4', 1)).toBe('1.2.3.4');   // the client wrote 6.6.6.6; the proxy appended 1.2.3.4
    expect(clientAddress('10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2', 2)).toBe('1.2.3.4');
    expect(clientAddress('10.0.0.1', ['6.6.6.6', '1.2.3.4'], 1)).toBe('1.2.3.4');
    expect(clientAddress('10.0.0.1', 'not-an-ip', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '1.2.3.4', 3)).toBe('10.0.0.1');   // fewer hops than trusted: the header says nothing reliable
  });

  it('keys IPv4 as it is (mapped or not) and IPv6 by its /64', () => {
    expect(addressKey('1.2.3.4')).toBe('1.2.3.4');
    expect(addressKey('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::7')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff::')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});
