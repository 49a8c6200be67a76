import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };

/**
 * Served over https (here: behind a proxy that says so with X-Forwarded-Proto), cookies are
 * Secure and responses carry HSTS; over plain http neither (a browser would drop Secure cookies).
 */
describe('cookies and headers over https', () => {
  let https: TestGatehouse;
  let http: TestGatehouse;
  const authorize = (gh: TestGatehouse, headers: Record<string, string> = {}) =>
    fetch(
      `${gh.url}/t/acme/auth?${new URLSearchParams({ client_id: 'web', response_type: 'code', scope: 'openid', redirect_uri: 'https://app.acme.test/cb', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' })}`,
      { redirect: 'manual', headers },
    );

  beforeAll(async () => {
    https = await startGatehouse({ publicUrl: 'https://id.acme.test' });
    http = await startGatehouse();
    for (const gh of [https, http]) {
      await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
      await gh.services.clients.create(gh.services.store.forTenant('acme'), { clientId: 'web', redirectUris: ['https://app.acme.test/cb'] }, OPERATOR);
    }
  });
  afterAll(async () => {
    await https?.stop();
    await http?.stop();
  });

  it('sets Secure, HttpOnly, SameSite=Lax cookies scoped to the tenant and sends HSTS over https', async () => {
    const res = await authorize(https, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'id.acme.test' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/t\/acme\/interaction\//);
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('_gh_'));
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/; secure/i);
      expect(cookie).toMatch(/; httponly/i);
      expect(cookie).toMatch(/; samesite=lax/i);
      expect(cookie).toMatch(/; path=\/t\/acme/);
    }
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('sets no Secure flag and no HSTS over plain http', async () => {
    const res = await authorize(http);
    expect(res.status).toBe(303);
    for (const cookie of res.headers.getSetCookie()) expect(cookie).not.toMatch(/; secure/i);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});
