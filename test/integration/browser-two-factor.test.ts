import { afterAll, beforeAll, expect, it } from '@jest/globals';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { ManualClock } from '../../src/clock.js';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, OUTPUT_DIR, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { describeWhen } from '../helpers/requirements.js';
import { codeFor } from '../helpers/rfc6238.js';
import { decodeQrDataUrl } from '../helpers/qr.js';
import { runCli } from '../helpers/cli.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const PASSWORD = 'Correct-Horse-9';

async function heading(page: Page): Promise<string> {
  await page.waitForLoadState('load');
  return ((await page.textContent('h1')) ?? '').trim();
}

describeWhen(chromiumAvailable(), 'two-factor authentication in the browser (TOTP, recovery codes, policy, step-up)', () => {
  // Gatehouse's clock: TOTP steps, throttling and the store's notion of expiry follow it.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const now = () => Math.floor(clock.now() / 1000);
  let gh: TestGatehouse;
  let browser: TestBrowser;
  let app: TestRelyingParty;
  const secrets: Record<string, string> = {};
  let recoveryCodes: string[] = [];

  const setPolicy = async (mfa: { policy: string; groups?: string[] }, throttle = { freeAttempts: 10, lockoutAfter: 5 }) =>
    gh.services.tenants.update('acme', { settings: { mfa: { groups: [], ...mfa }, signIn: { throttle } } }, OPERATOR);

  /** A fresh browser (no session) through the password step; returns the page after it. */
  async function passwordStep(username: string, query = ''): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/login${query}`);
    await page.fill('#username', username);
    await page.click('button:has-text("Next")');
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForLoadState('load');
    return page;
  }

  async function submitCode(page: Page, code: string) {
    await page.fill('#code', code);
    await page.click('button:has-text("Verify")');
    await page.waitForLoadState('load');
  }

  const lastLogin = () => app.logins.at(-1)!.claims;

  beforeAll(async () => {
    gh = await startGatehouse({ clock });
    const s = gh.services;
    await s.tenants.create({ id: 'acme', displayName: 'Acme Corp' }, OPERATOR);
    const store = s.store.forTenant('acme');
    for (const [username, groups] of [['alice', ['engineering']], ['bob', []], ['erin', []], ['frank', ['finance']]] as const) {
      await s.users.create(store, { username, password: PASSWORD, groups: [...groups] }, OPERATOR);
    }
    app = await startRelyingParty({ issuer: gh.issuer('acme'), clientId: 'app', clientSecret: 'z'.repeat(43) });
    await s.clients.create(store, { clientId: 'app', secret: 'z'.repeat(43), redirectUris: [app.redirectUri], firstParty: true }, OPERATOR);
    await setPolicy({ policy: 'required' });
    browser = await launchBrowser();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await gh?.stop();
  });

  it('leads a person who must use a second factor through enrollment: QR code, key as text, a correct first code, recovery codes', async () => {
    const page = await passwordStep('alice');
    expect(await heading(page)).toBe('Set up two-step verification');
    // The test decodes the QR code itself and checks the otpauth:// URI.
    const uri = new URL(decodeQrDataUrl((await page.getAttribute('#totp-qr', 'src'))!));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Corp:alice');
    expect(uri.searchParams.get('issuer')).toBe('Acme Corp');
    const secret = uri.searchParams.get('secret')!;
    expect(((await page.textContent('#totp-secret')) ?? '').replace(/\s/g, '')).toBe(secret);
    secrets.alice = secret;
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'screenshots', 'mfa-enroll.png'), fullPage: true });

    // A wrong first code does not finish the enrollment.
    await page.fill('#code', codeFor(secret, now(), 5));
    await page.click('button:has-text("Confirm")');
    expect(await page.textContent('#form-error')).toContain('not right');
    await page.fill('#code', codeFor(secret, now()));
    await page.click('button:has-text("Confirm")');
    expect(await heading(page)).toBe('Save your recovery codes');
    recoveryCodes = (await page.locator('#recovery-codes code').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    await page.click('button:has-text("I have saved them")');
    await page.waitForSelector('#signed-in');
    expect(lastLogin()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:2fa' });

    // At rest: the secret is sealed, the recovery codes are hashes.
    const db = new BetterSqlite3(path.join(gh.dir, 'gatehouse.db'), { readonly: true });
    const rows = JSON.stringify([db.prepare('SELECT * FROM mfa_factors').all(), db.prepare('SELECT * FROM mfa_recovery_codes').all()]);
    db.close();
    expect(rows).not.toContain(secret);
    for (const code of recoveryCodes) expect(rows).not.toContain(code.replace('-', ''));
    await page.context().close();
  });

  it('refuses a code that was already accepted (replay), also for the next sign-in', async () => {
    clock.advance(60_000);
    const first = await passwordStep('alice');
    expect(await heading(first)).toBe('Two-step verification');
    const code = codeFor(secrets.alice!, now());
    await submitCode(first, code);
    await first.waitForSelector('#signed-in');
    const second = await passwordStep('alice');
    await submitCode(second, code);
    expect(await second.textContent('#form-error')).toBe('That code was already used. Wait for the next one.');
    const events = await gh.services.store.forTenant('acme').audit.list({ action: 'mfa.failed' });
    expect(events[0]!.reason).toBe('replayed');
    clock.advance(30_000);
    await submitCode(second, codeFor(secrets.alice!, now()));
    await second.waitForSelector('#signed-in');
    await first.context().close();
    await second.context().close();
  });

  it('accepts one time step of drift either way and nothing beyond', async () => {
    clock.advance(300_000);
    const early = await passwordStep('alice');
    await submitCode(early, codeFor(secrets.alice!, now(), -2));
    expect(await early.textContent('#form-error')).toBe('That code is not right. Try again.');
    await submitCode(early, codeFor(secrets.alice!, now(), -1));
    await early.waitForSelector('#signed-in');
    clock.advance(300_000);
    const late = await passwordStep('alice');
    await submitCode(late, codeFor(secrets.alice!, now(), 2));
    expect(await late.textContent('#form-error')).toBe('That code is not right. Try again.');
    await submitCode(late, codeFor(secrets.alice!, now(), 1));
    await late.waitForSelector('#signed-in');
    await early.context().close();
    await late.context().close();
  });

  it('lets a recovery code in once, says how many are left, and refuses it the second time', async () => {
    clock.advance(300_000);
    const page = await passwordStep('alice');
    await page.click('a:has-text("Use a recovery code instead")');
    await page.fill('#recovery_code', recoveryCodes[0]!.toLowerCase());
    await page.click('button:has-text("Verify")');
    expect(await page.textContent('.notice')).toBe('You used a recovery code. 9 left.');
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('#signed-in');
    expect(lastLogin()).toMatchObject({ amr: ['pwd', 'mfa'], acr: 'urn:gatehouse:acr:2fa' });
    const again = await passwordStep('alice');
    await again.click('a:has-text("Use a recovery code instead")');
    await again.fill('#recovery_code', recoveryCodes[0]!);
    await again.click('button:has-text("Verify")');
    expect(await again.textContent('#form-error')).toBe('That code is not right. Try again.');
    const used = await gh.services.store.forTenant('acme').audit.list({ action: 'mfa.recovery_code_used' });
    expect(used[0]!.details).toEqual({ remaining: 9 });
    await page.context().close();
    await again.context().close();
  });

  it('throttles wrong codes like passwords and audits the lockout', async () => {
    const store = gh.services.store.forTenant('acme');
    const bob = await gh.services.users.find(store, 'bob');
    const enrollment = await gh.services.mfa.totpEnrollment((await gh.services.tenants.get('acme'))!, store, bob);
    expect(await gh.services.mfa.confirmTotp((await gh.services.tenants.get('acme'))!, store, bob, codeFor(enrollment.secret, now()), undefined)).toBe(true);
    clock.advance(60_000);
    const page = await passwordStep('bob');
    for (let i = 0; i < 5; i++) await submitCode(page, '000000');
    await submitCode(page, codeFor(enrollment.secret, now()));
    expect(await page.textContent('#form-error')).toMatch(/^Too many wrong codes\. Try again in \d+ minutes\.$/);
    const locked = await store.audit.list({ action: 'mfa.locked_out' });
    expect(locked[0]).toMatchObject({ targetId: bob.id, reason: 'too_many_wrong_codes' });
    await page.context().close();
  });

  it('requires a second factor only of the groups the policy names', async () => {
    await setPolicy({ policy: 'groups', groups: ['finance'] });
    const member = await passwordStep('frank');
    expect(await heading(member)).toBe('Set up two-step verification');
    const other = await passwordStep('erin');
    await other.waitForSelector('#signed-in');
    expect(lastLogin()).toMatchObject({ amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
    await member.context().close();
    // erin keeps her single-factor session for the next test.
    secrets.erinContext = 'kept';
    (globalThis as { erinPage?: Page }).erinPage = other;
  });

  it('steps up inside an existing session when the app asks for acr_values (without asking the password again)', async () => {
    const page = (globalThis as { erinPage?: Page }).erinPage!;
    await page.goto(`${app.url}/login?acr_values=${encodeURIComponent('urn:gatehouse:acr:2fa')}`);
    // No password page: erin has no factor yet, so she enrolls; a person with one would be asked for it.
    expect(await heading(page)).toBe('Set up two-step verification');
    const uri = new URL(decodeQrDataUrl((await page.getAttribute('#totp-qr', 'src'))!));
    secrets.erin = uri.searchParams.get('secret')!;
    await page.fill('#code', codeFor(secrets.erin, now()));
    await page.click('button:has-text("Confirm")');
    await page.click('button:has-text("I have saved them")');
    await page.waitForSelector('#signed-in');
    expect(lastLogin()).toMatchObject({ preferred_username: 'erin', acr: 'urn:gatehouse:acr:2fa', amr: ['pwd', 'otp', 'mfa'] });
    // The session is now two-factor: a second request for it asks nothing.
    const before = app.logins.length;
    await page.goto(`${app.url}/login?acr_values=${encodeURIComponent('urn:gatehouse:acr:2fa')}&prompt=none`);
    await page.waitForSelector('#signed-in');
    expect(app.logins.length).toBe(before + 1);
    // An essential acr claim works the same way, and max_age still forces a fresh sign-in.
    clock.advance(60_000);
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:gatehouse:acr:2fa' } } });
    await page.goto(`${app.url}/login?claims=${encodeURIComponent(claims)}&max_age=0`);
    expect(await heading(page)).toBe('Sign in');
    await page.context().close();
  });

  it('lets a person see, replace and remove factors on the account page (changes need a fresh code)', async () => {
    await setPolicy({ policy: 'optional' });
    clock.advance(300_000);
    const page = await passwordStep('alice');
    await submitCode(page, codeFor(secrets.alice!, now()));
    await page.waitForSelector('#signed-in');
    await page.goto(`${gh.issuer('acme')}/account`);
    expect(await page.locator('#factors li').count()).toBe(1);
    expect(await page.textContent('#recovery-left')).toContain('9');
    // Removal with a wrong code changes nothing.
    await page.fill('#factors input[name=code]', '123456');
    await page.click('#factors button:has-text("Remove")');
    expect(await page.textContent('.notice')).toContain('Nothing was changed');
    expect(await page.locator('#factors li').count()).toBe(1);
    // Replace: a fresh code, then a new authenticator; the old secret stops working.
    clock.advance(30_000);
    await page.fill('#factors input[name=code]', codeFor(secrets.alice!, now()));
    await page.click('#factors button:has-text("Replace")');
    expect(await heading(page)).toBe('Set up two-step verification');
    const replacement = new URL(decodeQrDataUrl((await page.getAttribute('#totp-qr', 'src'))!)).searchParams.get('secret')!;
    expect(replacement).not.toBe(secrets.alice);
    await page.fill('#code', codeFor(replacement, now()));
    await page.click('button:has-text("Confirm")');
    expect(await heading(page)).toBe('Your account');
    expect(await page.locator('#factors li').count()).toBe(1);
    const store = gh.services.store.forTenant('acme');
    const alice = await gh.services.users.find(store, 'alice');
    clock.advance(30_000);
    expect(await gh.services.mfa.check((await gh.services.tenants.get('acme'))!, store, alice, { code: codeFor(secrets.alice!, now()) }, undefined)).toMatchObject({ ok: false });
    // Remove with a fresh code from the new authenticator.
    clock.advance(30_000);
    await page.fill('#factors input[name=code]', codeFor(replacement, now()));
    await page.click('#factors button:has-text("Remove")');
    expect(await page.locator('#factors li').count()).toBe(0);
    const actions = (await store.audit.list({ action: 'mfa.*', limit: 50 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.factor_replaced', 'mfa.factor_removed']));
    await page.context().close();
  });

  it('resets a person\'s factors from the CLI for the help desk, audited', async () => {
    const env = { DATABASE_URL: `sqlite:${path.join(gh.dir, 'gatehouse.db')}`, GATEHOUSE_KEYS_DIR: path.join(gh.dir, 'keys'), LOG_LEVEL: 'silent' };
    const status = await runCli(['mfa', 'status', 'acme', 'erin', '--json'], { env });
    expect(status.json()).toMatchObject({ user: 'erin', recoveryCodesLeft: 10 });
    expect(status.json().factors).toHaveLength(1);
    const reset = await runCli(['mfa', 'reset', 'acme', 'erin', '--json'], { env });
    expect(reset.code).toBe(0);
    expect(reset.json()).toEqual({ user: 'erin', factors: 1, codes: 10 });
    const events = await gh.services.store.forTenant('acme').audit.list({ action: 'mfa.reset' });
    expect(events[0]).toMatchObject({ actorType: 'operator', outcome: 'success' });
    const policy = await runCli(['mfa', 'policy', 'acme', '--policy', 'groups', '--group', 'finance', '--json'], { env });
    expect(policy.json()).toEqual({ policy: 'groups', groups: ['finance'] });
    const bad = await runCli(['mfa', 'policy', 'acme', '--policy', 'groups'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('needs at least one group');
  });
});
