/**
 * TLS toward a managed service, decided in one place (pure). The configured TARGET_SSLMODE is a minimum: a
 * service URL's own `sslmode` may raise it (verify-full on a `require` gateway) but never lower it. Every
 * other TLS parameter of the URL is dropped before the `pg` client sees it (pg lets the URL override the
 * options given beside it, and reads sslrootcert/sslcert/sslkey as file paths): trust comes from the
 * configuration only (TARGET_SSL_CA_FILE, else Node's public roots).
 */
import type { ConnectionOptions } from 'node:tls';
import type { TargetSslMode, TargetTls } from '../../../base/config';

const STRENGTH: Record<TargetSslMode, number> = { disable: 0, require: 1, 'verify-ca': 2, 'verify-full': 3 };

/** libpq's sslmode values a URL may carry; allow and prefer count as disable (pg cannot fall back to plain text, and neither protects anything). */
export const URL_SSL_MODES: Readonly<Record<string, TargetSslMode>> = {
  disable: 'disable', allow: 'disable', prefer: 'disable', require: 'require', 'verify-ca': 'verify-ca', 'verify-full': 'verify-full',
};

/** URL parameters that concern TLS: never passed on to the client. */
export const isTlsParameter = (name: string): boolean => /^ssl/i.test(name) || name.toLowerCase() === 'uselibpqcompat';

export interface TargetConnection {
  /** The URL without any TLS parameter. */
  connectionString: string;
  /** The mode in force: the stronger of the configured minimum and the URL's sslmode. */
  mode: TargetSslMode;
  /** What the pg client gets as `ssl`. */
  ssl: false | ConnectionOptions;
}

export function targetConnection(connectionUrl: string, tls: TargetTls): TargetConnection {
  const url = new URL(connectionUrl);
  const asked = URL_SSL_MODES[url.searchParams.get('sslmode') ?? ''] ?? 'disable';
  const mode = STRENGTH[asked] > STRENGTH[tls.sslMode] ? asked : tls.sslMode;
  for (const name of [...url.searchParams.keys()]) if (isTlsParameter(name)) url.searchParams.delete(name);
  return { connectionString: url.toString(), mode, ssl: sslOptions(mode, tls.ca) };
}

function sslOptions(mode: TargetSslMode, ca: string | null): false | ConnectionOptions {
  const trust = ca ? { ca } : {};
  switch (mode) {
    case 'disable': return false;
    case 'require': return { rejectUnauthorized: false };
    // the chain is checked, the name is not
    case 'verify-ca': return { rejectUnauthorized: true, ...trust, checkServerIdentity: () => undefined };
    // Node's own check: the certificate must name the URL's host (DNS name or IP address)
    case 'verify-full': return { rejectUnauthorized: true, ...trust };
  }
}

/** A TLS failure of a connection attempt, as a fixed sentence (no server text, host or URL), or null when it was not TLS. */
export function tlsFailure(err: unknown, mode: TargetSslMode): string | null {
  const message = err instanceof Error ? err.message : '';
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (message === 'The server does not support SSL connections') {
    return `the PostgreSQL service does not accept TLS, which sslmode ${mode} requires`;
  }
  if (message === 'There was an error establishing an SSL connection') return `the TLS handshake with the PostgreSQL service failed (sslmode ${mode})`;
  if (typeof code !== 'string') return null;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the PostgreSQL service's TLS certificate does not name the host of its URL (sslmode ${mode})`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS_|^ERR_SSL_/.test(code) && /^[A-Z0-9_]{3,64}$/.test(code)) {
    return `the PostgreSQL service's TLS certificate is not trusted (sslmode ${mode}: ${code})`;
  }
  return null;
}
