import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { mintUserAccessToken } from '../helpers/user-tokens.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const HR = 'https://api.example.test/hr';
const WEATHER = 'https://api.example.test/weather';

/** RFC 9068 JWT access tokens: header, every claim, per-API lifetime, user attributes per API. */
describe('access tokens (RFC 9068)', () => {
  let gh: TestGatehouse;
  let secret: string;
  let userId: string;

  beforeAll(async () => {
    gh = await startGatehouse();
    await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    const store = gh.services.store.forTenant('acme');
    await gh.services.resources.upsert(store, { identifier: HR, scopes: ['hr:read'], accessTokenTtl: 120, userClaims: ['roles', 'groups'] }, OPERATOR);
    await gh.services.resources.upsert(store, { identifier: WEATHER, scopes: ['weather:read'] }, OPERATOR);
    secret = (await gh.services.clients.create(store, { clientId: 'hr-sync', resources: [{ resource: HR, scopes: ['hr:read'] }] }, OPERATOR)).secret!;
    await gh.services.clients.create(store, { clientId: 'web-app', redirectUris: ['https://app.example.test/cb'], resources: [{ resource: HR, scopes: ['hr:read'] }, { resource: WEATHER, scopes: ['weather:read'] }] }, OPERATOR);
    const user = await gh.services.users.create(store, { username: 'erin', groups: ['payroll', 'staff'] }, OPERATOR);
    await store.users.update(user.id, { attributes: { roles: ['hr-admin'] } });
    userId = user.id;
  });
  afterAll(async () => gh?.stop());

  const verifyAt = (token: string, audience: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${gh.issuer('acme')}/jwks`)), { issuer: gh.issuer('acme'), audience, typ: 'at+jwt' });

  it('issues client-credentials tokens with typ at+jwt, the tenant\'s key, and exactly the RFC 9068 claims plus tid', async () => {
    const config = await oidc.discovery(new URL(gh.issuer('acme')), 'hr-sync', secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
    const { access_token: token } = await oidc.clientCredentialsGrant(config, { resource: HR, scope: 'hr:read' });
    const { payload, protectedHeader } = await verifyAt(token, HR);
    const jwks = (await (await fetch(`${gh.issuer('acme')}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'tid']);
    expect(payload).toMatchObject({ iss: gh.issuer('acme'), sub: 'hr-sync', aud: HR, scope: 'hr:read', client_id: 'hr-sync', tid: 'acme' });
    expect(payload.exp! - payload.iat!).toBe(120); // the API's own lifetime
  });

  it('puts the user\'s roles and groups in user tokens for an API that asks for them', async () => {
    const token = await mintUserAccessToken(gh, { tenantId: 'acme', accountId: userId, clientId: 'web-app', resource: HR, scope: 'hr:read' });
    const { payload } = await verifyAt(token, HR);
    expect(payload).toMatchObject({ sub: userId, client_id: 'web-app', tid: 'acme', scope: 'hr:read', roles: ['hr-admin'] });
    expect([...(payload.groups as string[])].sort()).toEqual(['payroll', 'staff']);
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  it('leaves them out of tokens for an API that does not', async () => {
    const token = await mintUserAccessToken(gh, { tenantId: 'acme', accountId: userId, clientId: 'web-app', resource: WEATHER, scope: 'weather:read' });
    const { payload } = await verifyAt(token, WEATHER);
    expect(payload).toMatchObject({ sub: userId, aud: WEATHER, tid: 'acme' });
    expect(payload.roles).toBeUndefined();
    expect(payload.groups).toBeUndefined();
  });
});
