/**
 * The one shape of a domain's exception: a code from the domain's own enum, a message that is safe to show
 * (no URLs, no secrets, user text clipped), and optional details for the caller (e.g. the argument at fault).
 * Each domain declares `class XError extends DomainError<XErrorCode>`; only the API layer turns them into
 * GraphQL errors, through one exhaustive table per domain (src/api/error-map.ts), and the CLI prints the message.
 */
export abstract class DomainError<Code extends string = string> extends Error {
  constructor(readonly code: Code, message: string, readonly details: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** The base's own faults: a cursor the caller tampered with, a configuration that cannot start the process. */
export enum BaseErrorCode {
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_CONFIG = 'INVALID_CONFIG',
}

export class BaseError extends DomainError<BaseErrorCode> {}
