import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { VerifyError } from './verify-error.js';

/**
 * Verifying Gatehouse access tokens offline (RFC 9068 section 4), for the services that receive
 * them. Self-contained on purpose (only `jose`): it is the `gatehouse/verify` package export.
 */

/** Asymmetric JWS algorithms. Never `none`, never HMAC: an HMAC "signature" made with a public key proves nothing. */
export const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;

/** Small clock skew tolerated on exp/nbf/iat between Gatehouse and the service, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * How long fetched keys are kept, and how often an unknown `kid` may trigger a refetch (at most
 * once per 30 s: a flood of tokens with made-up kids cannot turn into a flood of JWKS requests).
 * Gatehouse publishes a new key before it signs with it (keys.publishAheadSeconds), so a cached
 * set normally already holds it.
 */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;

export interface VerifyOptions {
  /** The tenant's issuer, `https://id.example.com/t/<tenant>`; tokens must carry exactly it as `iss`. */
  issuer: string;
  /** This service's API identifier(s) (resource indicator); the token's `aud` must name one. */
  audience: string | string[];
  /** Scopes every request must carry; missing ones give insufficient_scope. */
  requiredScopes?: string[] | undefined;
  /** The tenant id the token's `tid` must equal; taken from the issuer's `/t/<tenant>` when not given. */
  tenant?: string | undefined;
  /** Where the issuer's keys are; `<issuer>/jwks` (Gatehouse's JWKS endpoint) when not given. */
  jwksUri?: string | undefined;
  /** A subset of ALLOWED_ALGORITHMS; all of them when not given. */
  algorithms?: string[] | undefined;
  clockToleranceSeconds?: number | undefined;
  /** The time to verify at (tests); now when not given. */
  currentDate?: Date | undefined;
}

/** The claims of a Gatehouse access token (RFC 9068 section 2.2, plus `tid`, `act`, roles, groups). */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  tid: string;
  scope?: string;
  /** RFC 8693 section 4.1: who acts on the subject's behalf (an exchanged token). */
  act?: { sub: string; act?: unknown };
  roles?: string[];
  groups?: string[];
}

export interface VerifiedToken {
  claims: AccessTokenClaims;
  scopes: string[];
  /** The user or, for a client-credentials token, the client. */
  subject: string;
  clientId: string;
  tenant: string;
}

export type Verifier = (token: string) => Promise<VerifiedToken>;

/** Key sets by JWKS URL, shared by every verifier of this process. */
const keySets = new Map<string, JWTVerifyGetKey>();

function keySetFor(jwksUri: string): JWTVerifyGetKey {
  let keys = keySets.get(jwksUri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUri), { cacheMaxAge: JWKS_CACHE_MAX_AGE_MS, cooldownDuration: JWKS_REFETCH_COOLDOWN_MS });
    keySets.set(jwksUri, keys);
  }
  return keys;
}

/** `https://id.example.com/t/acme` -> `acme`. */
export function tenantOfIssuer(issuer: string): string | undefined {
  return /\/t\/([^/?#]+)\/?$/.exec(issuer)?.[1];
}

/** jose's reasons, as short descriptions safe to return to the caller. */
function describe(error: unknown): VerifyError {
  if (error instanceof joseErrors.JWTExpired) return new VerifyError('invalid_token', 'the access token has expired', { cause: error });
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const reason = error.claim === 'nbf' ? 'the access token is not valid yet' : `unexpected "${error.claim}" claim value`;
    return new VerifyError('invalid_token', reason, { cause: error });
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new VerifyError('invalid_token', 'signing algorithm not allowed', { cause: error });
  if (error instanceof joseErrors.JWKSNoMatchingKey) return new VerifyError('invalid_token', 'no key of the issuer matches the token', { cause: error });
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new VerifyError('invalid_token', 'signature verification failed', { cause: error });
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JOSENotSupported) {
    return new VerifyError('invalid_token', 'malformed access token', { cause: error });
  }
  // Anything else is the key set: unreachable, timed out, not a JWKS.
  return new VerifyError('unavailable', 'the issuer\'s keys could not be fetched', { cause: error });
}

/**
 * A verifier bound to one issuer and audience. Checks, in order (RFC 9068 section 4):
 *  1. a compact JWS with `typ` at+jwt (section 4, step 1; RFC 8725 section 3.11),
 *  2. an allowed asymmetric algorithm, then the signature with the issuer's published key,
 *  3. `iss` equals the issuer exactly (step 2),
 *  4. `aud` names this service (step 3),
 *  5. `exp` (and `nbf`, `iat`) against the clock with a small tolerance (step 5),
 *  6. the required claims, `tid` equal to the issuer's tenant (a token of tenant A is never one of tenant B),
 *  7. the required scopes (RFC 6750 section 3.1: insufficient_scope).
 */
export function createVerifier(options: VerifyOptions): Verifier {
  const algorithms = options.algorithms ?? [...ALLOWED_ALGORITHMS];
  const refused = algorithms.filter((a) => !(ALLOWED_ALGORITHMS as readonly string[]).includes(a));
  if (refused.length) throw new TypeError(`gatehouse/verify: algorithms not allowed: ${refused.join(', ')} (asymmetric algorithms only)`);
  if (!URL.canParse(options.issuer)) throw new TypeError('gatehouse/verify: issuer must be an absolute URL');
  const tenant = options.tenant ?? tenantOfIssuer(options.issuer);
  const keys = keySetFor(options.jwksUri ?? `${options.issuer.replace(/\/+$/, '')}/jwks`);
  const requiredScopes = options.requiredScopes ?? [];
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms,
    typ: 'at+jwt',
    clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'tid'],
    ...(options.currentDate ? { currentDate: options.currentDate } : {}),
  };

  return async (token: string): Promise<VerifiedToken> => {
    if (typeof token !== 'string' || token.length === 0) throw new VerifyError('invalid_token', 'no access token');
    let claims: AccessTokenClaims;
    try {
      claims = (await jwtVerify(token, keys, verifyOptions)).payload as AccessTokenClaims;
    } catch (error) {
      throw describe(error);
    }
    if (typeof claims.tid !== 'string' || (tenant !== undefined && claims.tid !== tenant)) {
      throw new VerifyError('invalid_token', 'the access token belongs to another tenant');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    for (const needed of requiredScopes) {
      if (!scopes.includes(needed)) throw new VerifyError('insufficient_scope', 'the access token lacks a required scope', { scope: requiredScopes.join(' ') });
    }
    return { claims, scopes, subject: claims.sub, clientId: claims.client_id, tenant: claims.tid };
  };
}

const verifiers = new Map<string, Verifier>();

/**
 * Verifies one access token. Verifiers (and the JWKS they fetch) are cached per set of options,
 * so calling this per request costs a map lookup beyond the verification itself.
 */
export function verify(token: string, options: VerifyOptions): Promise<VerifiedToken> {
  if (options.currentDate) return createVerifier(options)(token);
  const key = JSON.stringify([options.issuer, options.audience, options.requiredScopes, options.tenant, options.jwksUri, options.algorithms, options.clockToleranceSeconds]);
  let verifier = verifiers.get(key);
  if (!verifier) {
    verifier = createVerifier(options);
    verifiers.set(key, verifier);
  }
  return verifier(token);
}
