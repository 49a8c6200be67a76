import { importJWK, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { TestGatehouse } from './gatehouse.js';

/**
 * A tenant's real signing key, taken from the store as the provider gets it. Attack tests sign
 * tokens with it that are right in every respect but the one under test, so that a refusal can
 * only come from that one check (and a control token proves the rest passes).
 */
export async function tenantSigningKey(gh: TestGatehouse, tenantId: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<{ key: CryptoKey; kid: string; publicJwk: JWK }> {
  const { keys } = await gh.services.keys.providerJwks(gh.services.store.forTenant(tenantId));
  const jwk = keys.find((k) => k.alg === alg && !k.key_ops);
  if (!jwk) throw new Error(`no active ${alg} key in ${tenantId}`);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return { key: (await importJWK(jwk, alg)) as CryptoKey, kid: jwk.kid!, publicJwk };
}

/** The claims of a valid Gatehouse access token (RFC 9068 section 2.2) for `audience`. */
export function accessTokenClaims(gh: TestGatehouse, tenantId: string, audience: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: gh.issuer(tenantId),
    sub: 'svc',
    aud: audience,
    client_id: 'svc',
    tid: tenantId,
    scope: 'orders:read',
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

export async function signAccessToken(claims: JWTPayload, key: CryptoKey | Uint8Array, header: { alg: string; kid?: string; typ?: string }): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: 'at+jwt', ...header }).sign(key);
}
