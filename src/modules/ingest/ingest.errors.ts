/** The ingest domain's exception: what an operator's command asked of the ingest configuration that it refuses. */
import { DomainError } from '../../base/domain-error';

export enum IngestErrorCode {
  /** An index pattern, host or service id that is malformed. */
  INVALID_INPUT = 'INVALID_INPUT',
  /** The service named does not exist. */
  SERVICE_NOT_FOUND = 'SERVICE_NOT_FOUND',
  /** The (index pattern, host) is mapped to another service already: unmap it first. */
  HOST_TAKEN = 'HOST_TAKEN',
  /** No mapping of that (index pattern, host) (or not to the service named). */
  HOST_NOT_MAPPED = 'HOST_NOT_MAPPED',
  /** The pattern has as many mapped hosts as INGEST_RAW_MAX_HOSTS allows. */
  TOO_MANY_HOSTS = 'TOO_MANY_HOSTS',
}

export class IngestError extends DomainError<IngestErrorCode> {}
