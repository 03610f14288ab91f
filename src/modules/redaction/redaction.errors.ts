/**
 * The redaction domain's codes and exception. INVALID_RULES and VERSION_CONFLICT are outcomes a caller can act on:
 * setRedactionRules returns them as `userErrors`. RULES_UNREADABLE is a fault: stored rules this version cannot read
 * (written by a newer one); the ingester refuses to index rather than index unredacted.
 */
import { DomainError } from '../../base/domain-error';

export enum RedactionErrorCode {
  INVALID_RULES = 'INVALID_RULES',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  RULES_UNREADABLE = 'RULES_UNREADABLE',
}

export interface RedactionUserError { code: RedactionErrorCode; message: string; field: string[] | null }

export class RedactionError extends DomainError<RedactionErrorCode> {}
