import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as oidc from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, OUTPUT_DIR, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { describeWhen } from '../helpers/requirements.js';

const require = createRequire(import.meta.url);
const OPERATOR = { type: 'operator' as const, id: 'test' };
const SCREENSHOTS = path.join(OUTPUT_DIR, 'screenshots');
const ALICE = { username: 'alice', password: 'Alice-Password-1' };
const SECRET_ONE = 'x'.repeat(43) + 'one';
const SECRET_TWO = 'y'.repeat(43) + 'two';

async function heading(page: Page): Promise<string> {
  await page.waitForLoadState('load');
  return ((await page.textContent('h1')) ?? '').trim();
}

async function typeUsername(page: Page, username: string) {
  await page.fill('#username', username);
  await page.click('button[type=submit]:has-text("Next")');
}

async function typePassword(page: Page, password: string) {
  await page.fill('#password', password);
  await page.click('button[type=submit]:has-text("Sign in")');
}

async function signIn(page: Page, username: string, password: string) {
  await typeUsername(page, username);
  await typePassword(page, password);
}

async function errorText(page: Page): Promise<string> {
  return ((await page.textContent('#form-error')) ?? '').trim();
}

describeWhen(chromiumAvailable(), 'browser single sign-on (Chromium, openid-client as the apps)', () => {
  let gh: TestGatehouse;
  let browser: TestBrowser;
  let app1: TestRelyingParty;
  let app2: TestRelyingParty;
  let app3: TestRelyingParty;
  let port: number;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    gh = await startGatehouse();
    port = gh.server.port;
    const s = gh.services;
    await s.tenants.create({ id: 'acme', displayName: 'Acme Corp', settings: { branding: { accentColor: '#0b6e4f' } } }, OPERATOR);
    await s.tenants.create({ id: 'globex', displayName: 'Globex' }, OPERATOR);
    const acme = s.store.forTenant('acme');
    await s.users.create(acme, { ...ALICE, email: 'alice@acme.test', emailVerified: true, givenName: 'Alice', familyName: 'Anderson', phone: '+1 555 0100', groups: ['engineering'] }, OPERATOR);
    await s.users.create(acme, { username: 'dave', password: 'Dave-Password-1' }, OPERATOR);
    await s.users.create(acme, { username: 'erin', password: 'Erin-Password-1' }, OPERATOR);
    await s.users.setStatus(acme, 'dave', 'disabled', OPERATOR);
    app1 = await startRelyingParty({ issuer: gh.issuer('acme'), clientId: 'app-one', clientSecret: SECRET_ONE, scope: 'openid profile email phone groups' });
    app2 = await startRelyingParty({ issuer: gh.issuer('acme'), clientId: 'app-two', clientSecret: SECRET_TWO });
    app3 = await startRelyingParty({ issuer: gh.issuer('globex'), clientId: 'globex-app', clientSecret: SECRET_ONE });
    await s.clients.create(
      acme,
      {
        clientId: 'app-one',
        name: 'App One',
        secret: SECRET_ONE,
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [app1.redirectUri],
        postLogoutRedirectUris: [app1.postLogoutRedirectUri],
        backchannelLogoutUri: app1.backchannelLogoutUri,
        scopes: ['openid', 'profile', 'email', 'phone', 'groups'],
      },
      OPERATOR,
    );
    await s.clients.create(acme, { clientId: 'app-two', name: 'App Two', secret: SECRET_TWO, redirectUris: [app2.redirectUri], firstParty: true, backchannelLogoutUri: app2.backchannelLogoutUri }, OPERATOR);
    const globex = s.store.forTenant('globex');
    await s.clients.create(globex, { clientId: 'globex-app', secret: SECRET_ONE, redirectUris: [app3.redirectUri], firstParty: true }, OPERATOR);
    browser = await launchBrowser();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    for (const app of [app1, app2, app3]) await app?.stop();
    await gh?.stop();
  });

  it('signs in with code + PKCE, asks consent for a third-party app, and gives the expected claims', async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${app1.url}/login`);
    expect(await heading(page)).toBe('Sign in');
    expect(await page.textContent('.tenant-name')).toBe('Acme Corp');
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sign-in.png'), fullPage: true });
    await signIn(page, ALICE.username, ALICE.password);
    expect(await heading(page)).toBe('Allow access');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'consent.png'), fullPage: true });
    await page.click('button:has-text("Allow")');
    await page.waitForSelector('#signed-in');
    const { claims, tokens } = app1.logins.at(-1)!;
    expect(claims).toMatchObject({
      iss: gh.issuer('acme'),
      aud: 'app-one',
      email: 'alice@acme.test',
      email_verified: true,
      given_name: 'Alice',
      family_name: 'Anderson',
      name: 'Alice Anderson',
      preferred_username: 'alice',
      phone_number: '+1 555 0100',
      groups: ['engineering'],
      amr: ['pwd'],
      acr: 'urn:gatehouse:acr:1fa',
    });
    expect(claims.sid).toEqual(expect.any(String));
    const userinfo = await oidc.fetchUserInfo(app1.config(), tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, email: 'alice@acme.test', groups: ['engineering'] });

    const cookies = await browser.context.cookies(gh.issuer('acme'));
    const session = cookies.find((c) => c.name === '_gh_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/t/acme' });
    await page.close();
  });

  it('has accessible, phone-sized pages that work with the keyboard alone (axe-core finds no violations)', async () => {
    // page.evaluate goes through the DevTools protocol, which the pages' CSP does not govern:
    // axe-core can be injected although the pages themselves allow no script.
    const context = await browser.newContext();
    const page = await context.newPage();
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const audit = async () => {
      await page.evaluate(axeSource);
      const result = await page.evaluate(async () => (window as any).axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'] }));
      expect((result as { violations: Array<{ id: string }> }).violations.map((v) => v.id)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    };
    await page.goto(`${app1.url}/login`);
    await audit();
    // Keyboard only: the username field has focus, Enter submits, the password field has focus.
    await page.keyboard.type('erin');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password:focus');
    await audit();
    await page.keyboard.type('wrong');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#form-error');
    await audit();
    await page.keyboard.type('Erin-Password-1');
    await page.keyboard.press('Enter');
    expect(await heading(page)).toBe('Allow access');
    await audit();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Allow');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signed-in');
    await context.close();
  });

  it('signs into a second (first-party) app of the tenant without asking for a password or consent', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app2.url}/login`);
    await page.waitForSelector('#signed-in');
    expect(app2.logins.at(-1)!.claims).toMatchObject({ aud: 'app-two', preferred_username: 'alice' });
    await page.close();
  });

  it('honours max_age: an old enough session is reused, max_age=0 asks for the password again', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app2.url}/login?max_age=3600`);
    await page.waitForSelector('#signed-in');
    await page.goto(`${app2.url}/login?max_age=0`);
    expect(await heading(page)).toBe('Sign in');
    await signIn(page, ALICE.username, ALICE.password);
    await page.waitForSelector('#signed-in');
    const { claims } = app2.logins.at(-1)!;
    expect(claims.auth_time).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    await page.close();
  });

  it('accepts an authorization request sent by POST and answers with response_mode=form_post', async () => {
    const page = await browser.context.newPage();
    const before = app2.logins.length;
    await page.goto(`${app2.url}/login?method=post&response_mode=form_post`);
    await page.click('#go');
    await page.waitForSelector('#signed-in');
    expect(app2.logins.length).toBe(before + 1);
    await page.close();
  });

  it('offers the account chooser for prompt=select_account, and prefills login_hint', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app2.url}/login?prompt=select_account`);
    expect(await heading(page)).toBe('Choose an account');
    await page.click('button:has-text("Continue as alice")');
    await page.waitForSelector('#signed-in');

    const fresh = await browser.newContext();
    const other = await fresh.newPage();
    await other.goto(`${app2.url}/login?login_hint=erin`);
    expect(await other.inputValue('#username')).toBe('erin');
    await typePassword(other, 'Erin-Password-1');
    await other.waitForSelector('#signed-in');
    expect(app2.logins.at(-1)!.claims.preferred_username).toBe('erin');
    await fresh.close();
    await page.close();
  });

  it('asks for the password again on prompt=login, in the language of ui_locales', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app2.url}/login?prompt=login&ui_locales=${encodeURIComponent('fr-CA en')}`);
    expect(await heading(page)).toBe('Se connecter');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.textContent('label[for=username]')).toBe("Nom d'utilisateur ou e-mail");
    await page.goto(`${app2.url}/login?prompt=login&ui_locales=xx`);
    expect(await heading(page)).toBe('Sign in');
    await signIn(page, ALICE.username, ALICE.password);
    await page.waitForSelector('#signed-in');
    await page.close();
  });

  it('answers prompt=none without a session with login_required', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${app2.url}/login?prompt=none`);
    expect(await page.textContent('#error')).toBe('login_required');
    await fresh.close();
  });

  it('does not honour a session of tenant acme at tenant globex', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app3.url}/login?prompt=none`);
    expect(await page.textContent('#error')).toBe('login_required');
    await page.goto(`${app3.url}/login`);
    expect(await heading(page)).toBe('Sign in');
    expect(await page.textContent('.tenant-name')).toBe('Globex');
    await page.close();
  });

  it('issues rotating refresh tokens to an app granted offline_access, and stops them for a disabled user', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${app1.url}/login?scope=${encodeURIComponent('openid offline_access')}&prompt=consent`);
    await signIn(page, 'erin', 'Erin-Password-1');
    expect(await heading(page)).toBe('Allow access');
    expect(await page.textContent('ul.scopes')).toContain('Stay signed in');
    await page.click('button:has-text("Allow")');
    await page.waitForSelector('#signed-in');
    const first = app1.logins.at(-1)!.tokens.refresh_token!;
    expect(first).toEqual(expect.any(String));
    const second = await oidc.refreshTokenGrant(app1.config(), first);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first);
    // Rotation: the used refresh token is spent.
    await expect(oidc.refreshTokenGrant(app1.config(), first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await gh.services.users.setStatus(gh.services.store.forTenant('acme'), 'erin', 'disabled', OPERATOR);
    await expect(oidc.refreshTokenGrant(app1.config(), second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await gh.services.users.setStatus(gh.services.store.forTenant('acme'), 'erin', 'active', OPERATOR);
    await fresh.close();
  });

  it('shows one message for a wrong password and an unknown user, and refuses a disabled user', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${app2.url}/login`);
    await signIn(page, ALICE.username, 'wrong-password');
    expect(await errorText(page)).toBe('Incorrect username or password.');
    expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
    await page.click('button:has-text("Not alice?")');
    await signIn(page, 'nobody-here', 'whatever-password');
    expect(await errorText(page)).toBe('Incorrect username or password.');
    await page.click('button:has-text("Not nobody-here?")');
    await signIn(page, 'dave', 'Dave-Password-1');
    expect(await errorText(page)).toBe('You cannot sign in with this account. Contact your administrator.');
    const events = await gh.services.store.forTenant('acme').audit.list({ action: 'signin.failed', limit: 10 });
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['invalid_credentials', 'unknown_user', 'account_disabled']));
    await fresh.close();
  });

  it('locks an account out after repeated failures, even for the right password, and audits it', async () => {
    await gh.services.tenants.update('acme', { settings: { branding: { accentColor: '#0b6e4f' }, signIn: { throttle: { freeAttempts: 10, lockoutAfter: 3, lockoutMinutes: 5 } } } }, OPERATOR);
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${app2.url}/login`);
    await typeUsername(page, 'erin');
    for (let i = 0; i < 3; i++) await typePassword(page, `wrong-${i}`);
    await typePassword(page, 'Erin-Password-1');
    expect(await errorText(page)).toBe('Too many failed attempts. Try again in 5 minutes.');
    const locked = await gh.services.store.forTenant('acme').audit.list({ action: 'signin.locked_out' });
    expect(locked[0]).toMatchObject({ reason: 'too_many_failures_for_account', targetId: 'erin' });
    await fresh.close();
  });

  it('refuses a form without its CSRF token', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${app2.url}/login`);
    await page.fill('#username', 'alice');
    await page.evaluate(() => document.querySelectorAll('input[name=csrf]').forEach((e) => e.remove()));
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/identify')), page.click('button:has-text("Next")')]);
    expect(response.status()).toBe(403);
    expect(await errorText(page)).toBe('Your form expired. Please try again.');
    const events = await gh.services.store.forTenant('acme').audit.list({ action: 'interaction.csrf_failed' });
    expect(events[0]!.reason).toBe('csrf_missing');
    await fresh.close();
  });

  it('shows an error page with a reference for an unregistered redirect URI, and a page for an unknown tenant', async () => {
    const page = await browser.context.newPage();
    const params = new URLSearchParams({ client_id: 'app-one', response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/callback', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const response = await page.goto(`${gh.issuer('acme')}/auth?${params}`);
    expect(response!.status()).toBe(400);
    expect(await heading(page)).toBe('Something went wrong');
    expect(await page.textContent('main')).toContain('redirect_uri');
    expect(await page.textContent('.reference code')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.content()).not.toMatch(/at .*\.(js|ts):\d+/);
    const unknown = await page.goto(`${gh.url}/t/no-such-tenant/auth?client_id=x`);
    expect(unknown!.status()).toBe(404);
    expect(await heading(page)).toBe('Organisation not found');
    await page.close();
  });

  it('shows the account page: profile, sessions (ending another one), apps (removing one)', async () => {
    const other: BrowserContext = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(`${app2.url}/login`);
    await signIn(otherPage, ALICE.username, ALICE.password);
    await otherPage.waitForSelector('#signed-in');

    const page = await browser.context.newPage();
    await page.goto(`${gh.issuer('acme')}/account`);
    expect(await heading(page)).toBe('Your account');
    expect(await page.textContent('dl.profile')).toContain('alice@acme.test');
    expect(await page.locator('#sessions li').count()).toBe(2);
    expect(await page.textContent('#apps')).toContain('App One');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'account.png'), fullPage: true });
    // End the other browser's session: its next request needs a password again.
    await page.click('#sessions li:not(:has-text("this browser")) button');
    expect(await page.locator('#sessions li').count()).toBe(1);
    await otherPage.goto(`${app2.url}/login?prompt=none`);
    expect(await otherPage.textContent('#error')).toBe('login_required');
    // Remove App One's access: its next sign-in asks for consent again.
    await page.click('#apps li:has-text("App One") button');
    expect(await page.textContent('#apps')).not.toContain('App One');
    await page.goto(`${app1.url}/login`);
    expect(await heading(page)).toBe('Allow access');
    await page.click('button:has-text("Allow")');
    await page.waitForSelector('#signed-in');
    await other.close();
    await page.close();
  });

  it('logs out from an app (id_token_hint, post_logout_redirect_uri, state) and sends back-channel logout tokens to the session\'s apps', async () => {
    const page = await browser.context.newPage();
    const login = app1.logins.at(-1)!;
    const sid = login.claims.sid;
    const url = oidc.buildEndSessionUrl(app1.config(), { id_token_hint: login.tokens.id_token!, post_logout_redirect_uri: app1.postLogoutRedirectUri, state: 'bye-123' });
    await page.goto(url.href);
    expect(await heading(page)).toBe('Sign out');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sign-out.png'), fullPage: true });
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('#signed-out');
    expect(await page.textContent('#signed-out')).toBe('bye-123');
    const tokenFor = (app: TestRelyingParty) => app.logoutTokens.find((t) => t.sid === sid);
    expect(tokenFor(app1)).toMatchObject({ iss: gh.issuer('acme'), aud: 'app-one', sub: login.claims.sub });
    expect(app2.logoutTokens.some((t) => t.aud === 'app-two' && t.sub === login.claims.sub)).toBe(true);
    await page.goto(`${app2.url}/login?prompt=none`);
    expect(await page.textContent('#error')).toBe('login_required');
    // An unregistered post-logout redirect is refused.
    await page.goto(oidc.buildEndSessionUrl(app1.config(), { id_token_hint: login.tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' }).href);
    expect(await page.textContent('main')).toContain('post_logout_redirect_uri');
    await page.close();
  });

  it('shows the tenant\'s logo, and a signed-out page when an app names no post-logout URI', async () => {
    await gh.services.tenants.update('acme', { settings: { branding: { accentColor: '#0b6e4f', logoUrl: 'https://cdn.acme.test/logo.png' } } }, OPERATOR);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app2.url}/login`);
    expect(await page.getAttribute('img.logo', 'src')).toBe('https://cdn.acme.test/logo.png');
    expect(await page.getAttribute('img.logo', 'alt')).toBe('Acme Corp');
    await signIn(page, ALICE.username, ALICE.password);
    await page.waitForSelector('#signed-in');
    await page.goto(`${gh.issuer('acme')}/session/end`);
    await page.click('button:has-text("Sign out")');
    expect(await heading(page)).toBe('Signed out');
    expect(await page.textContent('main')).toContain('You are signed out');
    await context.close();
  });

  it('keeps single sign-on across a restart of the server (sessions live in the store)', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app2.url}/login`);
    await signIn(page, ALICE.username, ALICE.password);
    await page.waitForSelector('#signed-in');
    await gh.stop(true);
    gh = await startGatehouse({ dir: gh.dir, port });
    const before = app2.logins.length;
    await page.goto(`${app2.url}/login?prompt=none`);
    await page.waitForSelector('#signed-in');
    expect(app2.logins.length).toBe(before + 1);
    await page.close();
  });
});
