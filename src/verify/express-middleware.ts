import { bearerToken, refusal } from './bearer-challenge.js';
import { isVerifyError, type VerifyError } from './verify-error.js';
import { createVerifier, type VerifiedToken } from './verify-token.js';
import type { BearerMiddlewareOptions } from './koa-middleware.js';

/**
 * The parts of an Express request and response the middleware uses. They are plain Node
 * `http.IncomingMessage` / `http.ServerResponse` members, so the middleware also works on a bare
 * Node server and the library needs no Express dependency.
 */
export interface NodeLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  auth?: VerifiedToken;
}

export interface NodeLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/**
 * Express (connect-style) middleware: verifies the bearer token and sets `req.auth`, or answers
 * with an RFC 6750 challenge. Errors other than refusals go to `next(error)`.
 */
export function expressBearer(options: BearerMiddlewareOptions) {
  const verifyToken = createVerifier(options);
  return function gatehouseBearer(req: NodeLikeRequest, res: NodeLikeResponse, next: (error?: unknown) => void): void {
    const header = req.headers.authorization;
    let token: string | undefined;
    try {
      token = bearerToken(Array.isArray(header) ? header.join(',') : header);
    } catch (error) {
      answer(res, error as VerifyError, options.realm);
      return;
    }
    if (token === undefined) {
      answer(res, undefined, options.realm);
      return;
    }
    verifyToken(token).then(
      (auth) => {
        req.auth = auth;
        next();
      },
      (error: unknown) => (isVerifyError(error) ? answer(res, error, options.realm) : next(error)),
    );
  };
}

function answer(res: NodeLikeResponse, error: VerifyError | undefined, realm: string | undefined): void {
  const out = refusal(error, realm);
  res.statusCode = out.status;
  if (out.challenge) res.setHeader('WWW-Authenticate', out.challenge);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(out.body));
}
