import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { TenantStore } from '../store/tenant-store.js';
import { keyStateAt } from '../tokens/signing-keys.js';
import { GatehouseError } from '../errors/gatehouse-error.js';

/**
 * Checks the bearer access token of a request to one of Gatehouse's own tenant APIs (SCIM, the
 * directory change feed). Deliberately small and self-contained, so that it can be swapped for
 * the general verifier library (`gatehouse/verify`) once that exists.
 *
 * The token must be an RFC 9068 JWT access token that this tenant issued for the directory API:
 * a client-credentials token of an app granted the resource `directoryAudience(...)` with the
 * needed scope. It is verified offline against the tenant's own published keys. The steps, in
 * the order RFC 9068 section 4 gives them:
 */
export interface VerifiedAccessToken {
  subject: string;
  clientId: string | undefined;
  scopes: Set<string>;
}

export interface AccessTokenCheck {
  store: TenantStore;
  tenantId: string;
  /** `<publicUrl>/t/<tenant>`: the tenant's issuer. */
  issuer: string;
  audience: string;
  algorithms: string[];
  clock: Clock;
  clockToleranceSeconds: number;
}

/** The audience of tokens for a tenant's directory API (SCIM and the change feed). */
export function directoryAudience(issuer: string): string {
  return `${issuer}/directory`;
}

const invalidToken = (message: string) => new GatehouseError('auth.invalid_token', message, { status: 401, details: { challenge: 'invalid_token' } });

/** RFC 6750 section 2.1: `Authorization: Bearer <token>`; nothing else is accepted (no query or form tokens). */
export function bearerTokenOf(authorization: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization?.trim() ?? '');
  if (!match) {
    // RFC 6750 3.1: a request without a token gets a challenge without an error code.
    throw new GatehouseError('auth.token_missing', 'this API needs a bearer access token of the tenant', { status: 401, details: { challenge: '' } });
  }
  return match[1]!;
}

/** The tenant's published verification keys (public parts only; no private key is opened). */
async function tenantPublicKeys(store: TenantStore, now: number): Promise<JWK[]> {
  const keys = await store.signingKeys.list();
  return keys.filter((k) => keyStateAt(k, keys, now) !== 'unpublished').map((k) => k.publicJwk as JWK);
}

export async function verifyTenantAccessToken(token: string, check: AccessTokenCheck): Promise<VerifiedAccessToken> {
  const now = check.clock.now();
  const jwks = createLocalJWKSet({ keys: await tenantPublicKeys(check.store, now) });
  let payload;
  try {
    // 1. `typ` is at+jwt (RFC 9068 4, step 1), 2. `iss` is this tenant's issuer (step 2), 3. `aud`
    // names the directory API (step 3), 4. the signature verifies with a key of this tenant and an
    // algorithm it signs with (steps 4-5), 5. `exp` has not passed, with the configured skew (step 6).
    ({ payload } = await jwtVerify(token, jwks, {
      typ: 'at+jwt',
      issuer: check.issuer,
      audience: check.audience,
      algorithms: check.algorithms,
      currentDate: new Date(now),
      clockTolerance: check.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw invalidToken(`the access token was refused (${error.code})`);
    throw error;
  }
  // 6. The tenant claim names this tenant: a token of another tenant never gets here (its issuer
  // and keys differ), and this is the same statement said a second way.
  if (payload.tid !== check.tenantId) throw invalidToken('the access token belongs to another tenant');
  const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
  return { subject: payload.sub!, clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined, scopes };
}

/** RFC 6750 3.1: 403 insufficient_scope, naming the scope that would do. */
export function requireScope(token: VerifiedAccessToken, anyOf: string[]): void {
  if (!anyOf.some((s) => token.scopes.has(s))) {
    throw new GatehouseError('auth.insufficient_scope', `this request needs the scope ${anyOf.join(' or ')}`, {
      status: 403,
      details: { challenge: 'insufficient_scope', scope: anyOf[0] },
    });
  }
}

/** The WWW-Authenticate value for a refused request (RFC 6750 section 3). */
export function bearerChallenge(realm: string, error: GatehouseError): string {
  const challenge = typeof error.details?.challenge === 'string' ? error.details.challenge : '';
  const parts = [`realm="${realm}"`];
  if (challenge) parts.push(`error="${challenge}"`);
  if (typeof error.details?.scope === 'string') parts.push(`scope="${error.details.scope}"`);
  return `Bearer ${parts.join(', ')}`;
}
