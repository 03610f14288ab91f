/**
 * A service's connection URL (its admin role's credentials) sealed at rest: envelope encryption
 * (base/crypto/envelope.ts) bound to the service's id, under the configured master keys. The URL is opened
 * only where a session to the service opens (audit-policy's target connector) and never leaves that call:
 * not in a record, a log line, an error or a response. A row whose credential does not open (copied from
 * another service, altered, or sealed under a key no longer configured) gives CREDENTIALS_UNREADABLE,
 * which names the service and the reason but never the URL.
 */
import { EnvelopeError, EnvelopeErrorCode, open, rewrap, seal, SealedSecret } from '../../base/crypto/envelope';
import type { MasterKeyring } from '../../base/crypto/master-keys';
import { TenancyError, TenancyErrorCode } from './tenancy.errors';

export type SealedCredential = SealedSecret;

/** What the URL's ciphertext is bound to: the service's id (lower-case, as the gateway database spells it). */
export const credentialContext = (serviceId: string): string => `service:${serviceId.toLowerCase()}`;

const REASON: Record<EnvelopeErrorCode, string> = {
  UNKNOWN_KEY_VERSION: 'it was sealed under a master key version that is not configured',
  DECRYPTION_FAILED: 'it does not authenticate (copied from another service, altered, or a wrong master key)',
  MALFORMED: 'it is malformed',
};

export class CredentialVault {
  /** `keys` null: a process that never opens credentials (the ingester); any use is refused. */
  constructor(private readonly keys: MasterKeyring | null) {}

  /** The current master key version (what rotation moves every service to). */
  get currentVersion(): number { return this.ring().current; }

  seal(serviceId: string, url: string): SealedCredential {
    return seal(this.ring(), credentialContext(serviceId), url);
  }

  /** The service's URL in clear, for the one call that opens a session with it. */
  open(service: { id: string; credential: SealedCredential }): string {
    return this.guard(service.id, () => open(this.ring(), credentialContext(service.id), service.credential));
  }

  /** The credential with its data key re-wrapped under the current master key (after checking that it opens). */
  rewrap(serviceId: string, credential: SealedCredential): SealedCredential {
    return this.guard(serviceId, () => rewrap(this.ring(), credentialContext(serviceId), credential));
  }

  private ring(): MasterKeyring {
    if (!this.keys) throw new TenancyError(TenancyErrorCode.CREDENTIALS_UNREADABLE, 'no credentials master key is configured in this process (CREDENTIALS_MASTER_KEYS)');
    return this.keys;
  }

  private guard<T>(serviceId: string, fn: () => T): T {
    try { return fn(); } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      throw new TenancyError(TenancyErrorCode.CREDENTIALS_UNREADABLE,
        `the stored credentials of service ${serviceId} cannot be decrypted: ${REASON[err.code]}`, { reason: 'CREDENTIALS_UNREADABLE' });
    }
  }
}
