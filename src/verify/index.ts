/**
 * `gatehouse/verify`: verify Gatehouse access tokens offline in Node services.
 *
 *   import { verify, koaBearer, expressBearer } from 'gatehouse/verify';
 *   const auth = await verify(token, { issuer: 'https://id.example.com/t/acme', audience: 'https://api.acme.example/orders', requiredScopes: ['orders:read'] });
 */
export {
  verify,
  createVerifier,
  tenantOfIssuer,
  ALLOWED_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  type VerifyOptions,
  type VerifiedToken,
  type AccessTokenClaims,
  type Verifier,
} from './verify-token.js';
export { VerifyError, isVerifyError, type VerifyErrorCode } from './verify-error.js';
export { bearerToken, bearerChallenge } from './bearer-challenge.js';
export { koaBearer, type BearerMiddlewareOptions, type KoaLikeContext } from './koa-middleware.js';
export { expressBearer, type NodeLikeRequest, type NodeLikeResponse } from './express-middleware.js';
