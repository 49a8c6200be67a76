import { VerifyError } from './verify-error.js';

/**
 * RFC 6750 plumbing shared by the Koa and Express middleware: reading the bearer token from the
 * request and writing the `WWW-Authenticate` challenge of a refusal.
 */

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), `undefined`
 * when there is none. Another scheme or a malformed value is invalid_request (section 3.1).
 * Tokens in the query string or the body (sections 2.2, 2.3) are not read: they leak into logs.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization === '') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  if (!match) throw new VerifyError('invalid_request', 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

/** RFC 6750 section 3: attribute values are quoted strings of %x20-21 / %x23-5B / %x5D-7E. */
const attribute = (value: string) => value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');

/**
 * The challenge for a refusal (RFC 6750 section 3). A request without any token gets the bare
 * challenge with no error code (section 3.1: "SHOULD NOT include an error code").
 */
export function bearerChallenge(error: VerifyError | undefined, realm: string | undefined): string {
  const parts: string[] = [];
  if (realm) parts.push(`realm="${attribute(realm)}"`);
  if (error && error.code !== 'unavailable') {
    parts.push(`error="${error.code}"`, `error_description="${attribute(error.message)}"`);
    if (error.scope) parts.push(`scope="${attribute(error.scope)}"`);
  }
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}

/** What a middleware answers: status, the challenge header (absent for 503) and a JSON body. */
export interface BearerRefusal {
  status: number;
  challenge: string | undefined;
  body: { error: string; error_description: string };
}

export function refusal(error: VerifyError | undefined, realm: string | undefined): BearerRefusal {
  if (!error) {
    return { status: 401, challenge: bearerChallenge(undefined, realm), body: { error: 'unauthorized', error_description: 'an access token is required' } };
  }
  if (error.code === 'unavailable') {
    return { status: 503, challenge: undefined, body: { error: 'temporarily_unavailable', error_description: error.message } };
  }
  return { status: error.status, challenge: bearerChallenge(error, realm), body: { error: error.code, error_description: error.message } };
}
