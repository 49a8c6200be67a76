import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { launchBrowser, chromiumAvailable, type TestBrowser } from '../helpers/browser.js';
import { startRelyingParty, type TestRelyingParty } from '../helpers/relying-party.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const pg = await postgresAvailable();
const chromium = chromiumAvailable();

/**
 * Two Gatehouse servers on one PostgreSQL database (and one master key): a person signs in to an
 * app through one of them, and a second app, served by the other, signs them in without asking.
 */
describeWhen(pg.ok ? chromium : pg, 'single sign-on across two server processes on PostgreSQL', () => {
  let database: TestDatabase;
  let a: TestGatehouse;
  let b: TestGatehouse;
  let browser: TestBrowser;
  let appA: TestRelyingParty;
  let appB: TestRelyingParty;

  beforeAll(async () => {
    database = await createTestDatabase();
    const masterKey = randomBytes(32).toString('base64');
    a = await startGatehouse({ databaseUrl: database.url, overrides: { keys: { masterKey } } });
    b = await startGatehouse({ databaseUrl: database.url, overrides: { keys: { masterKey } } });
    await a.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    const store = a.services.store.forTenant('acme');
    await a.services.users.create(store, { username: 'alice', password: 'Alice-Password-1' }, OPERATOR);
    appA = await startRelyingParty({ issuer: a.issuer('acme'), clientId: 'app-a', clientSecret: 'a'.repeat(43) });
    appB = await startRelyingParty({ issuer: b.issuer('acme'), clientId: 'app-b', clientSecret: 'b'.repeat(43) });
    await a.services.clients.create(store, { clientId: 'app-a', secret: 'a'.repeat(43), redirectUris: [appA.redirectUri], firstParty: true }, OPERATOR);
    await a.services.clients.create(store, { clientId: 'app-b', secret: 'b'.repeat(43), redirectUris: [appB.redirectUri], firstParty: true }, OPERATOR);
    browser = await launchBrowser();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await appA?.stop();
    await appB?.stop();
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  it('signs in through server A, then into the second app through server B without a password', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${appA.url}/login`);
    await page.fill('#username', 'alice');
    await page.click('button:has-text("Next")');
    await page.fill('#password', 'Alice-Password-1');
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('#signed-in');
    // Cookies are per host, not per port: the browser brings its session cookie to server B,
    // which finds the session in the shared database.
    await page.goto(`${appB.url}/login?prompt=none`);
    await page.waitForSelector('#signed-in');
    expect(appB.logins[0]!.claims.sub).toBe(appA.logins[0]!.claims.sub);
  });
});
