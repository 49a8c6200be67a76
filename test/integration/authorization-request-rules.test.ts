import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const REDIRECT = 'https://spa.acme.test/callback';

/**
 * What an authorization request must carry before any page is shown: PKCE with S256 (`plain` is
 * refused, a public client without PKCE is refused), a registered redirect URI matched exactly.
 * Errors for a valid redirect URI go back to the app (RFC 6749 4.1.2.1); others stay here.
 */
describe('authorization request rules', () => {
  let gh: TestGatehouse;
  const authorize = (params: Record<string, string>) =>
    fetch(`${gh.issuer('acme')}/auth?${new URLSearchParams({ client_id: 'spa', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 's1', ...params })}`, {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
  const errorAtApp = (res: Response) => {
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    return { error: location.searchParams.get('error'), description: location.searchParams.get('error_description'), state: location.searchParams.get('state') };
  };

  beforeAll(async () => {
    gh = await startGatehouse();
    await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    await gh.services.clients.create(gh.services.store.forTenant('acme'), { clientId: 'spa', type: 'public', redirectUris: [REDIRECT] }, OPERATOR);
  });
  afterAll(async () => gh?.stop());

  it('refuses a public client without PKCE', async () => {
    const res = await authorize({});
    expect(res.status).toBe(303);
    expect(errorAtApp(res)).toMatchObject({ error: 'invalid_request', state: 's1' });
  });

  it('refuses the plain PKCE method', async () => {
    const res = await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    expect(errorAtApp(res).error).toBe('invalid_request');
    expect(errorAtApp(res).description).toMatch(/code_challenge_method/);
  });

  it('starts a sign-in for S256', async () => {
    const res = await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/t\/acme\/interaction\//);
  });

  it('matches redirect URIs exactly: a different path, query or case is not the registered one', async () => {
    for (const uri of [`${REDIRECT}/x`, `${REDIRECT}?next=/`, REDIRECT.replace('callback', 'Callback'), REDIRECT.replace('https', 'http')]) {
      const res = await authorize({ redirect_uri: uri, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('redirect_uri');
    }
  });
});
