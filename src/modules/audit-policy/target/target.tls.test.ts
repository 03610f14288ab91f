import type { TargetSslMode } from '../../../base/config';
import { targetConnection, tlsFailure } from './target.tls';

const URL = 'postgres://avnadmin:pw@db.example.com:5432/defaultdb';
const modes: TargetSslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];

describe('targetConnection: the configured TARGET_SSLMODE is a minimum', () => {
  it.each(modes)('with no sslmode in the URL, %s is used', (mode) => {
    expect(targetConnection(URL, { sslMode: mode, ca: null }).mode).toBe(mode);
  });

  it('a URL sslmode can raise the mode and never lower it', () => {
    const rank = (m: TargetSslMode) => modes.indexOf(m);
    for (const configured of modes) {
      for (const asked of ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'bogus']) {
        const { mode } = targetConnection(`${URL}?sslmode=${asked}`, { sslMode: configured, ca: null });
        expect(rank(mode)).toBeGreaterThanOrEqual(rank(configured));
        const askedMode = (['allow', 'prefer', 'bogus'].includes(asked) ? 'disable' : asked) as TargetSslMode;
        expect(mode).toBe(rank(askedMode) > rank(configured) ? askedMode : configured);
      }
    }
  });

  it('drops every TLS parameter of the URL (pg would let them override its options or read files) and keeps the rest', () => {
    const c = targetConnection(`${URL}?sslmode=disable&sslrootcert=/etc/passwd&sslkey=/k&sslcert=/c&ssl=false&SSLMODE=disable&uselibpqcompat=true&application_name=x`,
      { sslMode: 'verify-full', ca: null });
    const params = new globalThis.URL(c.connectionString).searchParams;
    expect([...params.keys()]).toEqual(['application_name']);
    expect(c.connectionString).toContain('avnadmin:pw@db.example.com:5432/defaultdb');
  });

  it('the pg ssl options of each mode', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    expect(targetConnection(URL, { sslMode: 'disable', ca }).ssl).toBe(false);
    expect(targetConnection(URL, { sslMode: 'require', ca }).ssl).toEqual({ rejectUnauthorized: false });
    const verifyCa = targetConnection(URL, { sslMode: 'verify-ca', ca }).ssl as Record<string, unknown>;
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca });
    expect((verifyCa.checkServerIdentity as () => unknown)()).toBeUndefined();
    expect(targetConnection(URL, { sslMode: 'verify-full', ca }).ssl).toEqual({ rejectUnauthorized: true, ca });
    expect(targetConnection(URL, { sslMode: 'verify-full', ca: null }).ssl).toEqual({ rejectUnauthorized: true });
  });
});

describe('tlsFailure: fixed sentences, never server text', () => {
  it('classifies what pg and Node report', () => {
    expect(tlsFailure(new Error('The server does not support SSL connections'), 'require')).toMatch(/does not accept TLS, which sslmode require requires/);
    expect(tlsFailure(Object.assign(new Error("Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'verify-full'))
      .toBe("the PostgreSQL service's TLS certificate does not name the host of its URL (sslmode verify-full)");
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED']) {
      expect(tlsFailure(Object.assign(new Error('self-signed certificate in certificate chain /secret/path'), { code }), 'verify-ca'))
        .toBe(`the PostgreSQL service's TLS certificate is not trusted (sslmode verify-ca: ${code})`);
    }
  });
  it('is null for what is not TLS', () => {
    expect(tlsFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'require')).toBeNull();
    expect(tlsFailure(Object.assign(new Error('password authentication failed'), { code: '28P01' }), 'require')).toBeNull();
    expect(tlsFailure('weird', 'require')).toBeNull();
  });
});
