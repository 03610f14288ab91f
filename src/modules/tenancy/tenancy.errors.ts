/** The tenancy domain's exception: what an admin command or a caller asked for that the registry refuses. */
import { DomainError } from '../../base/domain-error';

export enum TenancyErrorCode {
  /** A name, id, URL or role that is malformed. */
  INVALID_INPUT = 'INVALID_INPUT',
  ORGANIZATION_NOT_FOUND = 'ORGANIZATION_NOT_FOUND',
  PROJECT_NOT_FOUND = 'PROJECT_NOT_FOUND',
  /** Unknown, or another tenant's: the two are never told apart. */
  SERVICE_NOT_FOUND = 'SERVICE_NOT_FOUND',
  SERVICE_NAME_TAKEN = 'SERVICE_NAME_TAKEN',
  /** An admin command named a token id that does not exist. */
  TOKEN_NOT_FOUND = 'TOKEN_NOT_FOUND',
  /**
   * The service's stored credentials do not decrypt with the configured master keys: copied from another
   * service, altered, or sealed under a key version no longer configured. An operator's matter; never the URL.
   */
  CREDENTIALS_UNREADABLE = 'CREDENTIALS_UNREADABLE',
}

export class TenancyError extends DomainError<TenancyErrorCode> {}
