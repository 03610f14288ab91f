import { GraphQLError } from 'graphql';
import { createLogger } from '../base/logger';
import { logRequestError, makeFormatError } from './error-map';

/** Apollo's own request errors of the persisted-query protocol carry an HTTP 4xx status and no code. */
const apolloRequestError = (message: string) => new GraphQLError(message, { extensions: { http: { status: 400, headers: new Map() } } });

describe('requests the client got wrong are its fault, not INTERNAL_SERVER_ERROR', () => {
  const format = makeFormatError();
  it.each([['provided sha does not match query'], ['Unsupported persisted query version']])('%s -> BAD_REQUEST, not logged as an error', (message) => {
    const error = apolloRequestError(message);
    // as Apollo calls formatError: the formatted error's code already defaulted to INTERNAL_SERVER_ERROR
    expect(format({ message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error)).toEqual({ message, extensions: { code: 'BAD_REQUEST' } });
    const lines: string[] = [];
    logRequestError(createLogger('debug', {}, (l) => lines.push(l)), error);
    expect(lines).toEqual([]);
  });

  it('a fault stays INTERNAL_SERVER_ERROR (no details) even with a 4xx status: one wrapping another error, or one with an unknown code', () => {
    const wrapped = new GraphQLError('boom at /srv/x.js:1', { originalError: new Error('boom at /srv/x.js:1'), extensions: { http: { status: 400 } } });
    const unknown = new GraphQLError('odd', { extensions: { code: 'SOMETHING_ELSE', http: { status: 400 } } });
    for (const e of [wrapped, unknown]) {
      expect(format({ message: e.message, extensions: e.extensions }, e)).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      const lines: string[] = [];
      logRequestError(createLogger('debug', {}, (l) => lines.push(l)), e);
      expect(lines.map((l) => JSON.parse(l).level)).toEqual(['error']);
    }
  });

  it('graphql-js giving up on a request\'s variables after 50 errors (a long list of bad input objects) -> BAD_USER_INPUT, not logged', () => {
    const message = 'Too many errors processing variables, error limit reached. Execution aborted.';
    const e = new GraphQLError(message);
    expect(format({ message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, e)).toEqual({ message, extensions: { code: 'BAD_USER_INPUT' } });
    const lines: string[] = [];
    logRequestError(createLogger('debug', {}, (l) => lines.push(l)), e);
    expect(lines).toEqual([]);
  });

  it('a 5xx status without a code is not the client\'s fault', () => {
    const e = new GraphQLError('x', { extensions: { http: { status: 503 } } });
    expect(format({ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, e).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
