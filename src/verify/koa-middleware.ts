import { bearerToken, refusal } from './bearer-challenge.js';
import { isVerifyError, VerifyError } from './verify-error.js';
import { createVerifier, type VerifiedToken, type VerifyOptions } from './verify-token.js';

export interface BearerMiddlewareOptions extends VerifyOptions {
  /** `realm` of the WWW-Authenticate challenge (RFC 6750 section 3); none when not given. */
  realm?: string | undefined;
}

/**
 * The parts of a Koa context the middleware uses, typed structurally so that the library does
 * not depend on Koa (or its types) at all.
 */
export interface KoaLikeContext {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: Record<string, unknown> & { auth?: VerifiedToken };
}

/**
 * Koa middleware: verifies the request's bearer token and puts the result in `ctx.state.auth`,
 * or answers 401/403/400 with an RFC 6750 challenge (503 when the issuer's keys are unreachable).
 */
export function koaBearer(options: BearerMiddlewareOptions) {
  const verifyToken = createVerifier(options);
  return async function gatehouseBearer(ctx: KoaLikeContext, next: () => Promise<unknown>): Promise<void> {
    let failure: VerifyError | undefined;
    let auth: VerifiedToken | undefined;
    try {
      const token = bearerToken(ctx.get('authorization') || undefined);
      if (token !== undefined) auth = await verifyToken(token);
    } catch (error) {
      if (!isVerifyError(error)) throw error;
      failure = error;
    }
    if (auth) {
      ctx.state.auth = auth;
      await next();
      return;
    }
    const answer = refusal(failure, options.realm);
    ctx.status = answer.status;
    if (answer.challenge) ctx.set('WWW-Authenticate', answer.challenge);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer.body;
  };
}
