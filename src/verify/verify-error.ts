/**
 * Why a bearer token was refused, as RFC 6750 section 3.1 names it, with the HTTP status the
 * resource server answers with. `unavailable` is ours: the issuer's keys could not be fetched,
 * which is the service's problem (503), not the caller's.
 */
export type VerifyErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unavailable';

const STATUS: Record<VerifyErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  unavailable: 503,
};

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  readonly status: number;
  /** For insufficient_scope: the scopes the request needs (RFC 6750 section 3, `scope` attribute). */
  readonly scope: string | undefined;

  constructor(code: VerifyErrorCode, description: string, options: { scope?: string; cause?: unknown } = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerifyError';
    this.code = code;
    this.status = STATUS[code];
    this.scope = options.scope;
  }
}

export function isVerifyError(error: unknown): error is VerifyError {
  return error instanceof VerifyError;
}
