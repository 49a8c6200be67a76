import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { ManualClock } from '../../src/clock.js';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { describeWhen } from '../helpers/requirements.js';
import { codeFor } from '../helpers/rfc6238.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const PASSWORD = 'Correct-Horse-9';

async function heading(page: Page): Promise<string> {
  await page.waitForLoadState('load');
  return ((await page.textContent('h1')) ?? '').trim();
}

/**
 * Passkeys with Chromium's virtual authenticator (DevTools protocol, WebAuthn domain): a
 * platform authenticator with resident keys and user verification, answering on its own.
 */
describeWhen(chromiumAvailable(), 'passkeys (WebAuthn) as a second factor and as a passwordless sign-in', () => {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  let gh: TestGatehouse;
  let browser: TestBrowser;
  let context: BrowserContext;
  // The virtual authenticator belongs to one page (one DevTools target): every test uses it.
  let page: Page;
  let app: TestRelyingParty;
  let totpSecret: string;

  beforeAll(async () => {
    // WebAuthn needs a domain as relying party id (IP addresses are refused): localhost.
    gh = await startGatehouse({ clock, publicHost: 'localhost' });
    const s = gh.services;
    await s.tenants.create({ id: 'acme', displayName: 'Acme Corp' }, OPERATOR);
    const store = s.store.forTenant('acme');
    const alice = await s.users.create(store, { username: 'alice', password: PASSWORD, displayName: 'Alice' }, OPERATOR);
    const tenant = await s.tenants.get('acme');
    totpSecret = (await s.mfa.totpEnrollment(tenant, store, alice)).secret;
    await s.mfa.confirmTotp(tenant, store, alice, codeFor(totpSecret, Math.floor(clock.now() / 1000)), undefined);
    await s.mfa.newRecoveryCodes(store, alice, OPERATOR);
    clock.advance(30_000);
    app = await startRelyingParty({ issuer: gh.issuer('acme'), clientId: 'app', clientSecret: 'p'.repeat(43) });
    await s.clients.create(store, { clientId: 'app', secret: 'p'.repeat(43), redirectUris: [app.redirectUri], firstParty: true }, OPERATOR);
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await gh?.stop();
  });

  it('registers a passkey on the account page of a two-factor session', async () => {
    await page.goto(`${app.url}/login`);
    await page.fill('#username', 'alice');
    await page.click('button:has-text("Next")');
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.fill('#code', codeFor(totpSecret, Math.floor(clock.now() / 1000)));
    await page.click('button:has-text("Verify")');
    await page.waitForSelector('#signed-in');

    await page.goto(`${gh.issuer('acme')}/account`);
    await page.click('button:has-text("Add a passkey or security key")');
    expect(await heading(page)).toBe('Add a passkey or security key');
    await page.click('#webauthn-start');
    await page.waitForURL(/\/account/);
    expect(await heading(page)).toBe('Your account');
    expect(await page.locator('#factors li[data-type=webauthn]').count()).toBe(1);
    const events = await gh.services.store.forTenant('acme').audit.list({ action: 'mfa.enrolled' });
    expect(events[0]!.details).toMatchObject({ type: 'webauthn' });
  });

  it('accepts the passkey as the second factor after the password', async () => {
    await context.clearCookies();
    await page.goto(`${app.url}/login`);
    await page.fill('#username', 'alice');
    await page.click('button:has-text("Next")');
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Sign in")');
    expect(await heading(page)).toBe('Two-step verification');
    await page.click('#webauthn-start');
    await page.waitForSelector('#signed-in');
    expect(app.logins.at(-1)!.claims).toMatchObject({ preferred_username: 'alice', amr: ['pwd', 'hwk', 'mfa'], acr: 'urn:gatehouse:acr:2fa' });
  });

  it('signs in without a password with the passkey (user verification makes it two-factor)', async () => {
    await context.clearCookies();
    await page.goto(`${app.url}/login`);
    await page.click('button:has-text("Sign in with a passkey")');
    expect(await heading(page)).toBe('Sign in with a passkey');
    await page.click('#webauthn-start');
    await page.waitForSelector('#signed-in');
    expect(app.logins.at(-1)!.claims).toMatchObject({ preferred_username: 'alice', amr: ['hwk', 'user', 'mfa'], acr: 'urn:gatehouse:acr:2fa' });
  });

  it('refuses a passkey that was removed from the account', async () => {
    await page.goto(`${gh.issuer('acme')}/account`);
    clock.advance(30_000);
    await page.fill('#factors li[data-type=webauthn] input[name=code]', codeFor(totpSecret, Math.floor(clock.now() / 1000)));
    await page.click('#factors li[data-type=webauthn] button:has-text("Remove")');
    expect(await page.locator('#factors li[data-type=webauthn]').count()).toBe(0);
    await context.clearCookies();
    await page.goto(`${app.url}/login`);
    await page.click('button:has-text("Sign in with a passkey")');
    await page.click('#webauthn-start');
    await page.waitForSelector('p:has-text("could not be verified")');
    const failed = await gh.services.store.forTenant('acme').audit.list({ action: 'signin.failed' });
    expect(failed[0]!.reason).toBe('passkey_unknown_credential');
  });
});
