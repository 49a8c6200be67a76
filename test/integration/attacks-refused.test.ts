import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import { base64url, generateKeyPair, type JWTPayload } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { mintUserAccessToken } from '../helpers/user-tokens.js';
import { accessTokenClaims, signAccessToken, tenantSigningKey } from '../helpers/tenant-keys.js';
import { verify } from '../../src/verify/index.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/tokens/token-exchange-policy.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
/** The same API identifier and the same client ids in both tenants: the worst case for confusion. */
const ORDERS = 'https://api.example.test/orders';
const VAULT = 'https://api.example.test/vault';

interface TenantFixture {
  svcSecret: string;
  exchangerSecret: string;
  userId: string;
}

async function setUpTenant(gh: TestGatehouse, tenantId: string): Promise<TenantFixture> {
  const { services } = gh;
  await services.tenants.create({ id: tenantId, displayName: tenantId }, OPERATOR);
  const store = services.store.forTenant(tenantId);
  await services.resources.upsert(store, { identifier: ORDERS, scopes: ['orders:read', 'orders:write'] }, OPERATOR);
  await services.resources.upsert(store, { identifier: VAULT, scopes: ['vault:read', 'vault:write'], accessTokenFormat: 'opaque' }, OPERATOR);
  const svc = await services.clients.create(store, { clientId: 'svc', resources: [{ resource: ORDERS, scopes: ['orders:read'] }, { resource: VAULT, scopes: ['vault:read'] }] }, OPERATOR);
  await services.clients.create(store, { clientId: 'web-app', redirectUris: ['https://app.example.test/cb'], resources: [{ resource: ORDERS, scopes: ['orders:read', 'orders:write'] }] }, OPERATOR);
  const exchanger = await services.clients.create(store, { clientId: 'exchanger', tokenExchange: { resources: [{ resource: ORDERS, scopes: ['orders:read', 'orders:write'] }] } }, OPERATOR);
  const user = await services.users.create(store, { username: 'carol' }, OPERATOR);
  return { svcSecret: svc.secret!, exchangerSecret: exchanger.secret!, userId: user.id };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('attacks refused', () => {
  let gh: TestGatehouse;
  let a: TenantFixture;
  let b: TenantFixture;

  beforeAll(async () => {
    gh = await startGatehouse();
    a = await setUpTenant(gh, 'tenant-a');
    b = await setUpTenant(gh, 'tenant-b');
  });
  afterAll(async () => gh?.stop());

  /** What a service of `tenantId` configured for the orders API does with a token. */
  const atServiceOf = (tenantId: string, token: string) => verify(token, { issuer: gh.issuer(tenantId), audience: ORDERS });

  async function clientCredentials(tenantId: string, secret: string, resource = ORDERS) {
    const config = await oidc.discovery(new URL(gh.issuer(tenantId)), 'svc', secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
    return (await oidc.clientCredentialsGrant(config, { resource })).access_token;
  }

  async function post(tenantId: string, endpoint: string, authorization: string, params: Record<string, string>) {
    const res = await fetch(`${gh.issuer(tenantId)}${endpoint}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    const text = await res.text();
    // any: a JSON body whose fields the assertions read freely
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
  }

  /** A token signed with tenant A's real key, right in every respect except `overrides`. */
  async function signedByA(overrides: JWTPayload = {}, header: { typ?: string } = {}) {
    const { key, kid } = await tenantSigningKey(gh, 'tenant-a');
    return signAccessToken(accessTokenClaims(gh, 'tenant-a', ORDERS, overrides), key, { alg: 'ES256', kid, ...header });
  }

  it('(control) a token signed with the tenant\'s key and right in every respect is accepted', async () => {
    await expect(atServiceOf('tenant-a', await signedByA())).resolves.toMatchObject({ tenant: 'tenant-a' });
    await expect(atServiceOf('tenant-a', await clientCredentials('tenant-a', a.svcSecret))).resolves.toMatchObject({ tenant: 'tenant-a' });
  });

  it('refuses a token of tenant A at a service configured for tenant B', async () => {
    const tokenOfA = await clientCredentials('tenant-a', a.svcSecret);
    await expect(atServiceOf('tenant-b', tokenOfA)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('refuses a token whose tid names another tenant, even under a valid signature and issuer', async () => {
    await expect(atServiceOf('tenant-a', await signedByA({ tid: 'tenant-b' }))).rejects.toMatchObject({ code: 'invalid_token', message: expect.stringContaining('another tenant') });
  });

  it('refuses a client of tenant A at tenant B\'s token endpoint', async () => {
    const res = await post('tenant-b', '/token', basic('svc', a.svcSecret), { grant_type: 'client_credentials', resource: ORDERS });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a client of tenant A at tenant B\'s introspection endpoint, and B\'s clients learn nothing of A\'s tokens', async () => {
    const opaqueOfA = await clientCredentials('tenant-a', a.svcSecret, VAULT);
    const withAsCredentials = await post('tenant-b', '/token/introspection', basic('svc', a.svcSecret), { token: opaqueOfA });
    expect(withAsCredentials.status).toBe(401);
    expect(withAsCredentials.body).toMatchObject({ error: 'invalid_client' });
    const byB = await post('tenant-b', '/token/introspection', basic('svc', b.svcSecret), { token: opaqueOfA });
    expect(byB.body).toEqual({ active: false });
    expect((await post('tenant-a', '/token/introspection', basic('svc', a.svcSecret), { token: opaqueOfA })).body).toMatchObject({ active: true });
  });

  it('refuses a client of tenant A at tenant B\'s revocation endpoint, and B\'s clients cannot revoke A\'s tokens', async () => {
    const opaqueOfA = await clientCredentials('tenant-a', a.svcSecret, VAULT);
    const withAsCredentials = await post('tenant-b', '/token/revocation', basic('svc', a.svcSecret), { token: opaqueOfA });
    expect(withAsCredentials.status).toBe(401);
    expect(withAsCredentials.body).toMatchObject({ error: 'invalid_client' });
    await post('tenant-b', '/token/revocation', basic('svc', b.svcSecret), { token: opaqueOfA });
    expect((await post('tenant-a', '/token/introspection', basic('svc', a.svcSecret), { token: opaqueOfA })).body).toMatchObject({ active: true });
  });

  it('refuses a client of tenant A at tenant B\'s token exchange endpoint', async () => {
    const userTokenOfB = await mintUserAccessToken(gh, { tenantId: 'tenant-b', accountId: b.userId, clientId: 'web-app', resource: ORDERS, scope: 'orders:read' });
    const res = await post('tenant-b', '/token', basic('exchanger', a.exchangerSecret), {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: userTokenOfB,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ORDERS,
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses alg "none"', async () => {
    const { kid } = await tenantSigningKey(gh, 'tenant-a');
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid }));
    const payload = base64url.encode(JSON.stringify(accessTokenClaims(gh, 'tenant-a', ORDERS)));
    await expect(atServiceOf('tenant-a', `${header}.${payload}.`)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses an HS256 token "signed" with the tenant\'s public key', async () => {
    const { kid, publicJwk } = await tenantSigningKey(gh, 'tenant-a', 'RS256');
    const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const forged = await signAccessToken(accessTokenClaims(gh, 'tenant-a', ORDERS), new TextEncoder().encode(secret), { alg: 'HS256', kid });
      await expect(atServiceOf('tenant-a', forged)).rejects.toMatchObject({ code: 'invalid_token', message: 'signing algorithm not allowed' });
    }
  });

  it('refuses a token signed by a key the tenant never published (unknown kid)', async () => {
    const stranger = await generateKeyPair('ES256');
    const forged = await signAccessToken(accessTokenClaims(gh, 'tenant-a', ORDERS), stranger.privateKey, { alg: 'ES256', kid: 'not-a-tenant-key' });
    await expect(atServiceOf('tenant-a', forged)).rejects.toMatchObject({ code: 'invalid_token', message: 'no key of the issuer matches the token' });
    const { kid } = await tenantSigningKey(gh, 'tenant-a');
    const kidOfTenant = await signAccessToken(accessTokenClaims(gh, 'tenant-a', ORDERS), stranger.privateKey, { alg: 'ES256', kid });
    await expect(atServiceOf('tenant-a', kidOfTenant)).rejects.toMatchObject({ code: 'invalid_token', message: 'signature verification failed' });
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(atServiceOf('tenant-a', await signedByA({ iat: now - 700, exp: now - 60 }))).rejects.toMatchObject({ code: 'invalid_token', message: 'the access token has expired' });
  });

  it('refuses a token that is not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(atServiceOf('tenant-a', await signedByA({ nbf: now + 120 }))).rejects.toMatchObject({ code: 'invalid_token', message: 'the access token is not valid yet' });
  });

  it('refuses a token with the wrong typ (an ID token or a plain JWT is not an access token)', async () => {
    for (const typ of ['JWT', 'id_token+jwt']) {
      await expect(atServiceOf('tenant-a', await signedByA({}, { typ }))).rejects.toMatchObject({ code: 'invalid_token', message: 'unexpected "typ" claim value' });
    }
  });

  it('refuses a token for another API (wrong aud)', async () => {
    await expect(atServiceOf('tenant-a', await signedByA({ aud: VAULT }))).rejects.toMatchObject({ code: 'invalid_token', message: 'unexpected "aud" claim value' });
  });

  it('refuses a token exchange that would widen the scopes', async () => {
    const subject = await mintUserAccessToken(gh, { tenantId: 'tenant-a', accountId: a.userId, clientId: 'web-app', resource: ORDERS, scope: 'orders:read' });
    const res = await post('tenant-a', '/token', basic('exchanger', a.exchangerSecret), {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ORDERS,
      scope: 'orders:read orders:write',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses a token exchange that would jump tenants, and a service of B refuses what A issues', async () => {
    const subjectOfB = await mintUserAccessToken(gh, { tenantId: 'tenant-b', accountId: b.userId, clientId: 'web-app', resource: ORDERS, scope: 'orders:read' });
    const jump = await post('tenant-a', '/token', basic('exchanger', a.exchangerSecret), {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectOfB,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ORDERS,
    });
    expect(jump.status).toBe(400);
    expect(jump.body).toMatchObject({ error: 'invalid_grant' });

    const subjectOfA = await mintUserAccessToken(gh, { tenantId: 'tenant-a', accountId: a.userId, clientId: 'web-app', resource: ORDERS, scope: 'orders:read' });
    const exchanged = await post('tenant-a', '/token', basic('exchanger', a.exchangerSecret), {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectOfA,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ORDERS,
    });
    expect(exchanged.status).toBe(200);
    await expect(atServiceOf('tenant-b', exchanged.body.access_token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses forged subject tokens at the token exchange (alg none, HS256 with the public key, tid of another tenant)', async () => {
    const { kid, publicJwk } = await tenantSigningKey(gh, 'tenant-a', 'RS256');
    const userClaims = accessTokenClaims(gh, 'tenant-a', ORDERS, { sub: a.userId, client_id: 'web-app' });
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid }))}.${base64url.encode(JSON.stringify(userClaims))}.`;
    const hs256 = await signAccessToken(userClaims, new TextEncoder().encode(JSON.stringify(publicJwk)), { alg: 'HS256', kid });
    const otherTid = await signedByA({ sub: a.userId, client_id: 'web-app', tid: 'tenant-b' });
    for (const subject of [none, hs256, otherTid]) {
      const res = await post('tenant-a', '/token', basic('exchanger', a.exchangerSecret), {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subject,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: ORDERS,
      });
      expect(res.body).toMatchObject({ error: 'invalid_grant' });
    }
    // (control) the same claims, properly signed, are exchanged.
    const ok = await post('tenant-a', '/token', basic('exchanger', a.exchangerSecret), {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: await signedByA({ sub: a.userId, client_id: 'web-app' }),
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: ORDERS,
    });
    expect(ok.status).toBe(200);
  });
});
