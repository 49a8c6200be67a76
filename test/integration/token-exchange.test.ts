import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { mintUserTokens, mintUserAccessToken } from '../helpers/user-tokens.js';
import { TOKEN_EXCHANGE_GRANT, ACCESS_TOKEN_TYPE } from '../../src/tokens/token-exchange-policy.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const ORDERS = 'https://api.example.test/orders';
const BILLING = 'https://api.example.test/billing';
const ARCHIVE = 'https://api.example.test/archive';

/**
 * A user signs in to `web-app` and calls the orders API with an access token (aud = orders). The
 * orders service (`orders-service`) calls the billing API on the user's behalf by exchanging that
 * token (RFC 8693). The orders API lists `invoices:read` among its scopes: the user consents to
 * it when signing in, which is what lets it be delegated further.
 */
async function setUpTenant(gh: TestGatehouse, tenantId: string) {
  const { services } = gh;
  await services.tenants.create({ id: tenantId, displayName: tenantId }, OPERATOR);
  const store = services.store.forTenant(tenantId);
  await services.resources.upsert(store, { identifier: ORDERS, scopes: ['orders:read', 'invoices:read', 'invoices:write'] }, OPERATOR);
  await services.resources.upsert(store, { identifier: BILLING, scopes: ['invoices:read', 'invoices:write'], userClaims: ['roles', 'groups'] }, OPERATOR);
  await services.resources.upsert(store, { identifier: ARCHIVE, scopes: ['invoices:read'], accessTokenFormat: 'opaque' }, OPERATOR);
  const web = await services.clients.create(
    store,
    { clientId: 'web-app', redirectUris: ['https://app.example.test/cb'], resources: [{ resource: ORDERS, scopes: ['orders:read', 'invoices:read', 'invoices:write'] }, { resource: ARCHIVE, scopes: ['invoices:read'] }] },
    OPERATOR,
  );
  const service = await services.clients.create(
    store,
    {
      clientId: 'orders-service',
      tokenExchange: {
        resources: [
          { resource: BILLING, scopes: ['invoices:read', 'invoices:write'] },
          { resource: ARCHIVE, scopes: ['invoices:read'] },
        ],
        subjectAudiences: [ORDERS, ARCHIVE],
      },
    },
    OPERATOR,
  );
  const other = await services.clients.create(store, { clientId: 'reports-job', grantTypes: ['client_credentials'], resources: [{ resource: BILLING, scopes: ['invoices:read'] }] }, OPERATOR);
  const alice = await services.users.create(store, { username: 'alice', groups: ['staff'] }, OPERATOR);
  await store.users.update(alice.id, { attributes: { roles: ['buyer'] } });
  return { serviceSecret: service.secret!, otherSecret: other.secret!, webSecret: web.secret!, aliceId: alice.id };
}

describe('token exchange (RFC 8693): a service calls a downstream API on a user\'s behalf', () => {
  let gh: TestGatehouse;
  let alpha: Awaited<ReturnType<typeof setUpTenant>>;
  let beta: Awaited<ReturnType<typeof setUpTenant>>;

  beforeAll(async () => {
    gh = await startGatehouse();
    alpha = await setUpTenant(gh, 'alpha');
    beta = await setUpTenant(gh, 'beta');
  });
  afterAll(async () => gh?.stop());

  const userToken = (tenantId: string, accountId: string, scope = 'orders:read invoices:read', extra: { expiresIn?: number; resource?: string } = {}) =>
    mintUserAccessToken(gh, { tenantId, accountId, clientId: 'web-app', resource: extra.resource ?? ORDERS, scope, ...(extra.expiresIn ? { expiresIn: extra.expiresIn } : {}) });

  async function exchange(tenantId: string, clientId: string, secret: string, params: Record<string, string>) {
    const res = await fetch(`${gh.issuer(tenantId)}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE, ...params }),
    });
    // any: a JSON body whose fields the assertions read freely
    return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
  }

  it('issues a token for the downstream API with the user as subject and the service as actor (every RFC 9068 claim, roles and groups)', async () => {
    const subject = await userToken('alpha', alpha.aliceId);
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING, scope: 'invoices:read' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'invoices:read', expires_in: expect.any(Number) });
    expect(body.refresh_token).toBeUndefined();
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(`${gh.issuer('alpha')}/jwks`)), {
      issuer: gh.issuer('alpha'),
      audience: BILLING,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      sub: alpha.aliceId,
      aud: BILLING,
      client_id: 'orders-service',
      act: { sub: 'orders-service' },
      scope: 'invoices:read',
      tid: 'alpha',
      roles: ['buyer'],
      groups: ['staff'],
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
  });

  it('uses `audience` as the target too, and with no scope asked gives every scope that may be delegated', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'orders:read invoices:read invoices:write');
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, audience: BILLING });
    expect(status).toBe(200);
    expect(body.scope).toBe('invoices:read invoices:write');
    expect(decodeJwt(body.access_token).aud).toBe(BILLING);
  });

  it('refuses scopes wider than the subject token\'s, even when the policy allows them', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'orders:read invoices:read');
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING, scope: 'invoices:read invoices:write' });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses scopes wider than the policy\'s for the downstream API, even when the subject token has them', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'orders:read invoices:read invoices:write');
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: ARCHIVE, scope: 'invoices:write' });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses when the subject token carries no scope that may be delegated', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'orders:read');
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING });
    expect(body).toMatchObject({ error: 'invalid_scope' });
  });

  it('never issues a token that outlives the subject token', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'orders:read invoices:read', { expiresIn: 45 });
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING });
    expect(body.expires_in).toBeLessThanOrEqual(45);
    expect(decodeJwt(body.access_token).exp).toBeLessThanOrEqual(decodeJwt(subject).exp!);
  });

  it('refuses an API the tenant\'s policy does not let this client exchange for (invalid_target)', async () => {
    const subject = await userToken('alpha', alpha.aliceId);
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: ORDERS });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_target' });
    const unknown = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: 'https://api.example.test/nowhere' });
    expect(unknown.body).toMatchObject({ error: 'invalid_target' });
  });

  it('refuses a client without a token exchange policy', async () => {
    const subject = await userToken('alpha', alpha.aliceId);
    const { status, body } = await exchange('alpha', 'reports-job', alpha.otherSecret, { subject_token: subject, resource: BILLING });
    expect(status).toBe(400);
    expect(body.error).toMatch(/^(invalid_request|unauthorized_client)$/);
  });

  it('refuses a subject token issued for an API the policy does not take tokens from', async () => {
    const subject = await userToken('alpha', alpha.aliceId, 'invoices:read', { resource: BILLING });
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING });
    expect(body).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a service\'s own client-credentials token as subject: only users\' tokens are exchanged', async () => {
    const config = await oidc.discovery(new URL(gh.issuer('alpha')), 'reports-job', alpha.otherSecret, oidc.ClientSecretBasic(alpha.otherSecret), { execute: [oidc.allowInsecureRequests] });
    const own = (await oidc.clientCredentialsGrant(config, { resource: BILLING })).access_token;
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: own, resource: BILLING });
    expect(body).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a subject token of another tenant (a tenant jump)', async () => {
    const betaToken = await userToken('beta', beta.aliceId);
    const { status, body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: betaToken, resource: BILLING });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a client of another tenant at this tenant\'s exchange endpoint', async () => {
    const betaToken = await userToken('beta', beta.aliceId);
    const { status, body } = await exchange('beta', 'orders-service', alpha.serviceSecret, { subject_token: betaToken, resource: BILLING });
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses the token of a user who has since been disabled', async () => {
    const store = gh.services.store.forTenant('alpha');
    const bob = await gh.services.users.create(store, { username: 'bob' }, OPERATOR);
    const subject = await userToken('alpha', bob.id);
    await gh.services.users.setStatus(store, bob.id, 'disabled', OPERATOR);
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: BILLING });
    expect(body).toMatchObject({ error: 'invalid_grant' });
  });

  it('exchanges an opaque subject token while its grant lives, and refuses it once the grant is revoked', async () => {
    const { accessToken, refreshToken } = await mintUserTokens(gh, { tenantId: 'alpha', accountId: alpha.aliceId, clientId: 'web-app', resource: ARCHIVE, scope: 'invoices:read' });
    expect(accessToken.split('.')).toHaveLength(1);
    const ok = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: accessToken, resource: BILLING });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token)).toMatchObject({ sub: alpha.aliceId, act: { sub: 'orders-service' } });

    // The app revokes the user's refresh token (RFC 7009): the grant ends with it.
    const revoked = await fetch(`${gh.issuer('alpha')}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`web-app:${alpha.webSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    const refused = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: accessToken, resource: BILLING });
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('issues an opaque token for an opaque API, whose introspection shows the actor', async () => {
    const subject = await userToken('alpha', alpha.aliceId);
    const { body } = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, resource: ARCHIVE });
    expect(body.access_token.split('.')).toHaveLength(1);
    const res = await fetch(`${gh.issuer('alpha')}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`orders-service:${alpha.serviceSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: body.access_token }),
    });
    expect(await res.json()).toMatchObject({ active: true, sub: alpha.aliceId, aud: ARCHIVE, client_id: 'orders-service', act: { sub: 'orders-service' }, tid: 'alpha', scope: 'invoices:read' });
  });

  it('answers malformed requests with OAuth errors and no internals', async () => {
    const subject = await userToken('alpha', alpha.aliceId);
    const wrongType = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', resource: BILLING });
    expect(wrongType.status).toBe(400);
    expect(wrongType.contentType).toMatch(/application\/json/);
    expect(wrongType.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    const actor = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: subject, actor_token: subject, actor_token_type: ACCESS_TOKEN_TYPE, resource: BILLING });
    expect(actor.body.error).toBe('invalid_request');
    const missing = await exchange('alpha', 'orders-service', alpha.serviceSecret, { resource: BILLING });
    expect(missing.body.error).toBe('invalid_request');
    const garbage = await exchange('alpha', 'orders-service', alpha.serviceSecret, { subject_token: 'a.b.c', resource: BILLING });
    expect(garbage.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    expect(JSON.stringify(garbage.body)).not.toMatch(/at .*\.js|Error:/);
  });

  it('audits each exchange and each refusal', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const events = await gh.services.store.forTenant('alpha').audit.list({ limit: 500 });
    const exchanged = events.filter((e) => e.action === 'token.exchanged');
    expect(exchanged.length).toBeGreaterThan(0);
    expect(exchanged[0]).toMatchObject({ actorType: 'client', actorId: 'orders-service', targetType: 'user', targetId: alpha.aliceId, outcome: 'success' });
    expect(exchanged.map((e) => e.details?.resource)).toContain(BILLING);
    const refused = events.filter((e) => e.action === 'token.refused' && e.details?.grantType === TOKEN_EXCHANGE_GRANT);
    expect(refused.map((e) => e.reason)).toEqual(expect.arrayContaining(['invalid_scope', 'invalid_grant', 'invalid_target', 'invalid_request']));
  });
});
