import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';

/** What a token exchange needs to know about the user's access token it was given. */
export interface SubjectToken {
  /** The user (`sub`). */
  accountId: string;
  /** The app the user's token was issued to. */
  clientId: string;
  scopes: Set<string>;
  /** The APIs the token was issued for (`aud`). */
  audiences: string[];
  /** Expiry, epoch seconds. */
  exp: number;
  /** An earlier delegation the token already carries (RFC 8693 section 4.1 nests it). */
  act: Record<string, unknown> | undefined;
  format: 'jwt' | 'opaque';
}

export interface SubjectTokenVerifierOptions {
  provider: Provider;
  tenantId: string;
  /** The tenant's published keys, private or public (private members are dropped here). */
  jwks: JWK[];
  /** Signature algorithms the tenant signs with; never `none`, never HMAC. */
  algorithms: string[];
  clockToleranceSeconds: number;
}

/** Members of a private JWK (RFC 7518 section 6) that a verifier must never hold. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function publicJwk(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  return copy as JWK;
}

/** A JWS compact serialisation has three dot-separated parts; opaque tokens have none. */
const looksLikeJwt = (value: string) => value.split('.').length === 3;

const refuse = (detail: string) => new errors.InvalidGrant(`subject_token ${detail}`);

/**
 * Checks the `subject_token` of a token exchange (RFC 8693 section 2.1): it must be an access
 * token that this tenant issued to a user and that is still valid. A JWT access token is checked
 * as RFC 9068 section 4 says (signature with the tenant's own keys, `typ`, `iss`, `exp`) plus the
 * tenant id; an opaque one is looked up in the tenant's own store, and its grant must still exist
 * (a revoked grant ends the delegation). A token of another tenant fails on both counts: its
 * signature is not made by this tenant's keys, and this tenant's store has no such token.
 *
 * Every refusal is `invalid_grant` (RFC 8693 section 2.2.2, RFC 6749 section 5.2) with a generic
 * description; the reason is kept in the error detail for the audit log.
 */
export function createSubjectTokenVerifier(options: SubjectTokenVerifierOptions): (value: string) => Promise<SubjectToken> {
  const { provider, tenantId } = options;
  const keys = createLocalJWKSet({ keys: options.jwks.map(publicJwk) });

  async function fromJwt(value: string): Promise<SubjectToken> {
    let payload: JWTPayload;
    try {
      // RFC 9068 section 4: typ at+jwt, issuer, signature with an allowed algorithm, exp.
      ({ payload } = await jwtVerify(value, keys, {
        issuer: provider.issuer,
        typ: 'at+jwt',
        algorithms: options.algorithms,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['sub', 'client_id', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw refuse(`is not a valid access token of this tenant (${(error as { code?: string }).code ?? 'invalid'})`);
    }
    if (payload.tid !== tenantId) throw refuse('belongs to another tenant');
    if (typeof payload.client_id !== 'string') throw refuse('has no client_id');
    // RFC 9068 section 2.2: a client-credentials token's subject is the client itself.
    if (payload.sub === payload.client_id) throw refuse('is not a user\'s token');
    return {
      accountId: payload.sub!,
      clientId: payload.client_id,
      scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
      audiences: payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud],
      exp: payload.exp!,
      act: isObject(payload.act) ? payload.act : undefined,
      format: 'jwt',
    };
  }

  async function fromOpaque(value: string): Promise<SubjectToken> {
    // Only the AccessToken model: client-credentials tokens are stored under another model and
    // so are never found here. find() checks expiry (with the provider's clock tolerance).
    const token = await provider.AccessToken.find(value);
    if (!token || !token.isValid) throw refuse('is unknown, expired or revoked');
    if (!token.accountId) throw refuse('is not a user\'s token');
    if (token.grantId) {
      // As introspection does (RFC 7662): a token whose grant was revoked is no longer active.
      const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
      if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) {
        throw refuse('belongs to a revoked grant');
      }
    }
    const extra = (token.extra ?? {}) as Record<string, unknown>;
    if (extra.tid !== undefined && extra.tid !== tenantId) throw refuse('belongs to another tenant');
    const aud = token.aud;
    return {
      accountId: token.accountId,
      clientId: token.clientId!,
      scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
      audiences: aud === undefined ? [] : Array.isArray(aud) ? aud : [aud],
      exp: token.exp!,
      act: isObject(extra.act) ? extra.act : undefined,
      format: 'opaque',
    };
  }

  return (value: string) => (looksLikeJwt(value) ? fromJwt(value) : fromOpaque(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
