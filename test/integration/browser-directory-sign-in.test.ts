import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { openldapConnection } from '../helpers/ldap-connections.js';
import { GROUP_DNS, USERS } from '../fixtures/ldap/openldap-directory.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };

async function heading(page: Page): Promise<string> {
  await page.waitForLoadState('load');
  return ((await page.textContent('h1')) ?? '').trim();
}

/**
 * People of an OpenLDAP directory sign in on Gatehouse's page in a real browser, and the app
 * receives their directory profile and groups (by DN, nesting resolved); the tenant's two-factor
 * policy applies to directory groups; a directory that is down is said so, with a 503.
 */
const slapd = slapdAvailable();
describeWhen(slapd.ok ? chromiumAvailable() : slapd, 'directory users signing in through the browser (slapd, Chromium)', () => {
  let dir: string;
  let directory: Slapd;
  let gh: TestGatehouse;
  let browser: TestBrowser;
  let app: TestRelyingParty;

  async function signIn(username: string, password: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/login`);
    await page.fill('#username', username);
    await page.click('button:has-text("Next")');
    await page.fill('#password', password);
    await page.click('button:has-text("Sign in")');
    await page.waitForLoadState('load');
    return page;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-ldap-browser-'));
    const ca = createTestCa(path.join(dir, 'ca'));
    directory = await startSlapd({ ca, name: 'slapd-browser' });
    gh = await startGatehouse();
    const s = gh.services;
    await s.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    const store = s.store.forTenant('acme');
    await s.ldap.create(store, openldapConnection('corp', [directory.ldapsUrl], directory, ca), OPERATOR);
    app = await startRelyingParty({ issuer: gh.issuer('acme'), clientId: 'app', clientSecret: 'l'.repeat(43), scope: 'openid profile email groups roles' });
    await s.clients.create(store, { clientId: 'app', secret: 'l'.repeat(43), redirectUris: [app.redirectUri], firstParty: true, scopes: ['openid', 'profile', 'email', 'groups', 'roles'] }, OPERATOR);
    browser = await launchBrowser();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await gh?.stop();
    await directory?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs a directory user in with their directory password; the app gets their profile, groups by DN (nested) and roles', async () => {
    const page = await signIn('alice', USERS.alice.password);
    await page.waitForSelector('#signed-in');
    const claims = app.logins.at(-1)!.claims;
    expect(claims).toMatchObject({ preferred_username: 'alice', email: 'alice@example.com', given_name: 'Alice', family_name: 'Anderson', amr: ['pwd'], roles: ['admin'] });
    expect(claims.groups).toEqual(expect.arrayContaining([GROUP_DNS.engineering, GROUP_DNS.admins, GROUP_DNS.staff, GROUP_DNS.allStaff]));
    expect(claims.groups).not.toContain(GROUP_DNS.contractorAdmins);
    // The subject is Gatehouse's own id for the person, linked to the directory's entryUUID.
    const user = await gh.services.store.forTenant('acme').users.get(claims.sub);
    expect(user).toMatchObject({ source: 'ldap:corp', username: 'alice' });
    await page.context().close();
  });

  it('refuses a wrong password and a disabled directory account with the sign-in page\'s messages', async () => {
    const wrong = await signIn('alice', 'not-her-password');
    expect(await wrong.textContent('#form-error')).toBe('Incorrect username or password.');
    const disabled = await signIn('dave', USERS.dave.password);
    expect(await disabled.textContent('#form-error')).toBe('You cannot sign in with this account. Contact your administrator.');
    const failed = await gh.services.store.forTenant('acme').audit.list({ action: 'signin.failed', limit: 5 });
    expect(failed.map((e) => e.reason)).toEqual(expect.arrayContaining(['invalid_credentials', 'account_disabled']));
    await wrong.context().close();
    await disabled.context().close();
  });

  it('asks members of a directory group named in the two-factor policy to enroll, and not the others', async () => {
    await gh.services.tenants.update('acme', { settings: { mfa: { policy: 'groups', groups: [GROUP_DNS.admins] } } }, OPERATOR);
    const admin = await signIn('alice', USERS.alice.password);
    expect(await heading(admin)).toBe('Set up two-step verification');
    const other = await signIn('bob', USERS.bob.password);
    await other.waitForSelector('#signed-in');
    expect(app.logins.at(-1)!.claims).toMatchObject({ preferred_username: 'bob', acr: 'urn:gatehouse:acr:1fa' });
    await gh.services.tenants.update('acme', { settings: { mfa: { policy: 'optional', groups: [] } } }, OPERATOR);
    await admin.context().close();
    await other.context().close();
  });

  it('says the directory is unavailable (503) when every server is down', async () => {
    await directory.stop();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${app.url}/login`);
      await page.fill('#username', 'carol');
      await page.click('button:has-text("Next")');
      await page.fill('#password', USERS.carol.password);
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/password')), page.click('button:has-text("Sign in")')]);
      expect(response.status()).toBe(503);
      expect(await page.textContent('#form-error')).toBe('The directory is unavailable right now. Try again later.');
      expect(await page.content()).not.toMatch(/at .*\.(js|ts):\d+/);
      await context.close();
    } finally {
      await directory.start();
    }
  });
});
