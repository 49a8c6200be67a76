import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { describeWhen } from '../helpers/requirements.js';
import { simpleSamlPhpAvailable, startSimpleSamlPhp, SSP_USERS, type SimpleSamlPhp } from '../helpers/simplesamlphp.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const T = 'acme';
const C = 'partner';

async function heading(page: Page): Promise<string> {
  await page.waitForLoadState('load');
  return ((await page.textContent('h1')) ?? '').trim();
}

/**
 * The whole SP-initiated flow in a real browser: an app asks Gatehouse to sign someone in, the
 * person types their partner email address, signs in at a real SimpleSAMLphp identity provider,
 * and comes back to the app with Gatehouse's OIDC tokens. Then logout from the app also logs out
 * at the partner, and an IdP-initiated sign-in lands in the connection's default app.
 */
const ssp = simpleSamlPhpAvailable();
describeWhen(ssp.ok ? chromiumAvailable() : ssp, 'SAML partner sign-in end to end (SimpleSAMLphp, Chromium, openid-client)', () => {
  let gh: TestGatehouse;
  let idp: SimpleSamlPhp;
  let browser: TestBrowser;
  let app: TestRelyingParty;


  async function signInAtPartner(page: Page, user: keyof typeof SSP_USERS) {
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', SSP_USERS[user]);
    await Promise.all([page.waitForNavigation(), page.press('input[name=password]', 'Enter')]);
  }

  beforeAll(async () => {
    gh = await startGatehouse();
    idp = await startSimpleSamlPhp({ trustedHosts: [new URL(gh.url).host] });
    const s = gh.services;
    await s.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
    const store = s.store.forTenant(T);
    app = await startRelyingParty({ issuer: gh.issuer(T), clientId: 'app', clientSecret: 's'.repeat(43), scope: 'openid profile email groups' });
    await s.clients.create(
      store,
      {
        clientId: 'app',
        name: 'Partner Portal',
        secret: 's'.repeat(43),
        redirectUris: [app.redirectUri],
        postLogoutRedirectUris: [app.postLogoutRedirectUri],
        backchannelLogoutUri: app.backchannelLogoutUri,
        initiateLoginUri: `${app.url}/login`,
        firstParty: true,
        scopes: ['openid', 'profile', 'email', 'groups'],
      },
      OPERATOR,
    );
    await s.saml.create(store, { id: C, displayName: 'Partner Inc', idp: { metadataUrl: idp.metadataUrl }, domains: ['example.com'], requireSignedAssertions: true }, OPERATOR);
    // Gatehouse is registered from its own published SP metadata, as a partner would.
    await idp.registerSpFromMetadata(gh.services.saml.urls(T, C).metadata);
    browser = await launchBrowser();
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await idp?.stop();
    await gh?.stop();
  });

  it('routes someone@example.com to the partner, and brings them back to the app with OIDC tokens', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app.url}/login`);
    expect(await page.textContent('main')).toContain('Sign in with Partner Inc');
    await page.fill('#username', 'alice@example.com');
    await page.click('button:has-text("Next")');
    await page.waitForURL((url) => url.href.startsWith(idp.baseUrl));
    await signInAtPartner(page, 'alice');
    await page.waitForSelector('#signed-in', { timeout: 20000 });
    const { claims } = app.logins.at(-1)!;
    expect(claims).toMatchObject({ iss: gh.issuer(T), email: 'alice@example.com', given_name: 'Alice', family_name: 'Anderson', groups: expect.arrayContaining(['engineering', 'admins']) });
    const user = await gh.services.store.forTenant(T).users.get(claims.sub);
    expect(user).toMatchObject({ source: `saml:${C}` });
    await page.close();
  });

  it('logs out of the app, of Gatehouse and of the partner in one go (SAML single logout), with back-channel logout to the app', async () => {
    const page = await browser.context.newPage();
    const login = app.logins.at(-1)!;
    await page.goto(oidc.buildEndSessionUrl(app.config(), { id_token_hint: login.tokens.id_token!, post_logout_redirect_uri: app.postLogoutRedirectUri, state: 'saml-bye' }).href);
    expect(await heading(page)).toBe('Sign out');
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('#signed-out', { timeout: 20000 });
    expect(await page.textContent('#signed-out')).toBe('saml-bye');
    expect(app.logoutTokens.some((t) => t.sid === login.claims.sid)).toBe(true);
    const audit = await gh.services.store.forTenant(T).audit.list({ action: 'saml.logout_*', limit: 10 });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['saml.logout_requested', 'saml.logout_completed']));
    // Gatehouse's session is gone, and so is the partner's: signing in asks the partner's password again.
    await page.goto(`${app.url}/login?prompt=none`);
    expect(await page.textContent('#error')).toBe('login_required');
    await page.goto(`${app.url}/login`);
    await page.click('button:has-text("Sign in with Partner Inc")');
    await page.waitForSelector('input[name=password]');
    await page.close();
  });

  it('lands an IdP-initiated sign-in in the connection\'s default app, only once the connection allows it', async () => {
    const store = gh.services.store.forTenant(T);
    const spEntityId = gh.services.saml.urls(T, C).metadata;
    const context = await browser.newContext();
    const page = await context.newPage();
    // Not allowed yet: the unsolicited response is refused.
    await page.goto(`${idp.baseUrl}saml2/idp/SSOService.php?spentityid=${encodeURIComponent(spEntityId)}`);
    await signInAtPartner(page, 'bob');
    expect(await heading(page)).toContain('failed');
    await gh.services.saml.update(store, C, { allowIdpInitiated: true, defaultApp: 'app' }, OPERATOR);
    const before = app.logins.length;
    await page.goto(`${idp.baseUrl}saml2/idp/SSOService.php?spentityid=${encodeURIComponent(spEntityId)}`);
    await page.waitForSelector('#signed-in', { timeout: 20000 });
    expect(app.logins.length).toBe(before + 1);
    expect(app.logins.at(-1)!.claims).toMatchObject({ email: 'bob@example.com' });
    await context.close();
  });
});
