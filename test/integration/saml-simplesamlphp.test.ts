import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import { simpleSamlPhpAvailable, startSimpleSamlPhp, SSP_USERS, type SimpleSamlPhp } from '../helpers/simplesamlphp.js';
import { readForm, TestBrowser } from '../helpers/test-browser.js';
import { describeWhen } from '../helpers/requirements.js';

/**
 * A round trip with a real third-party identity provider: SimpleSAMLphp 1.19 (Debian), on a
 * loopback port, told about Gatehouse from Gatehouse's own published SP metadata. A browser with
 * a cookie jar (over HTTP) follows the signed AuthnRequest to SimpleSAMLphp, signs in there, and
 * posts the signed and encrypted response back to the ACS, up to `onSignedIn`. Then single logout
 * in both directions.
 */

const T = 'acme';
const C = 'ssp';

describeWhen(simpleSamlPhpAvailable(), 'SAML round trip with a real SimpleSAMLphp identity provider', () => {
  let h: SamlHarness;
  let ssp: SimpleSamlPhp;


  /** The person signs in at SimpleSAMLphp; returns the page the browser ends on. */
  async function signIn(browser: TestBrowser, user: keyof typeof SSP_USERS) {
    const { instruction } = await h.begin(T, C, `interaction-${user}`);
    if (instruction.type !== 'redirect') throw new Error('expected the Redirect binding');
    const login = await browser.request(instruction.url);
    if (login.status !== 200) throw new Error(`SimpleSAMLphp answered ${login.status} to the AuthnRequest:\n${ssp.logTail()}`);
    const answer = await browser.submit(readForm(login, 'AuthState'), { username: user, password: SSP_USERS[user] });
    // SimpleSAMLphp's auto-posting page of the HTTP-POST binding, submitted as its button would be.
    const post = readForm(answer, 'SAMLResponse');
    expect(post.action).toBe(h.gh.services.saml.urls(T, C).acs);
    return browser.submit(post);
  }

  beforeAll(async () => {
    h = await startSamlHarness();
    ssp = await startSimpleSamlPhp({ trustedHosts: [new URL(h.gh.url).host] });
    await h.gh.services.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
    // The partner is imported from its own metadata URL (plain http is allowed on loopback only).
    await h.gh.services.saml.create(
      h.gh.services.store.forTenant(T),
      { id: C, displayName: 'SimpleSAMLphp', idp: { metadataUrl: ssp.metadataUrl }, requireEncryptedAssertions: true, requireSignedAssertions: true, domains: ['example.com'] },
      OPERATOR,
    );
    // Gatehouse is registered from its own published SP metadata, as a partner would.
    await ssp.registerSpFromMetadata(h.gh.services.saml.urls(T, C).metadata);
  }, 60_000);
  afterAll(async () => {
    await ssp?.stop();
    await h?.close();
  });

  it('imports SimpleSAMLphp from its metadata URL', async () => {
    const connection = await h.gh.services.saml.get(h.gh.services.store.forTenant(T), C);
    expect(connection.idp).toMatchObject({ entityId: ssp.entityId, source: 'metadata-url', sso: expect.arrayContaining([expect.objectContaining({ url: ssp.ssoUrl })]) });
    expect(connection.idp.signingCertificates).toHaveLength(1);
  });

  it('signs alice in: signed AuthnRequest accepted by SimpleSAMLphp, its signed and encrypted response accepted by Gatehouse, identity handed to onSignedIn', async () => {
    const browser = new TestBrowser();
    const before = h.signIns.length;
    const page = await signIn(browser, 'alice');
    expect(page.status).toBe(200);
    expect(h.signIns.length).toBe(before + 1);
    const received = h.signIns.at(-1)!;
    expect(received).toMatchObject({ tenantId: T, connectionId: C, interactionUid: 'interaction-alice', idpInitiated: undefined });
    expect(received.identity).toMatchObject({
      source: `saml:${C}`,
      email: 'alice@example.com',
      givenName: 'Alice',
      familyName: 'Anderson',
      displayName: 'Alice Anderson',
      groups: [
        { externalId: 'engineering', name: 'engineering' },
        { externalId: 'admins', name: 'admins' },
      ],
      attributes: { samlNameIdFormat: 'persistent' },
    });
    expect(received.identity.authentication.classRef).toMatch(/^urn:oasis:names:tc:SAML:2.0:ac:classes:/);
    expect(received.user).toMatchObject({ source: `saml:${C}`, email: 'alice@example.com' });
    const acsRequestId = (await h.gh.services.store.forTenant(T).audit.list({ action: 'saml.signin' })).find((e) => e.actorId === received.user.id)!.requestId!;
    expect(await auditOf(h.gh, T, 'saml.signin', acsRequestId)).toMatchObject({ outcome: 'success', details: { signed: { response: true, assertion: true }, encrypted: true } });
  });

  it('refuses the same response when the browser posts it a second time', async () => {
    const browser = new TestBrowser();
    const { instruction } = await h.begin(T, C, 'interaction-replay');
    const login = await browser.request((instruction as { url: string }).url);
    const answer = await browser.submit(readForm(login, 'AuthState'), { username: 'bob', password: SSP_USERS.bob });
    const post = readForm(answer, 'SAMLResponse');
    expect((await browser.submit(post)).status).toBe(200);
    const again = await browser.submit(post);
    expect(again.status).toBe(400);
    expect(again.body).toContain('Sign-in with your organisation failed');
  });

  it('IdP-initiated single logout: SimpleSAMLphp signs alice out of Gatehouse, then returns her', async () => {
    const browser = new TestBrowser();
    await signIn(browser, 'alice');
    const accountId = h.signIns.at(-1)!.user.id;
    const sessions = h.gh.services.store.forTenant(T).saml.sessions;
    // alice also has a session from the earlier test, in another browser: SimpleSAMLphp names
    // this browser's session (SessionIndex), and only that one ends.
    const before = await sessions.listByAccount(accountId);
    const ended = h.endedSessions.length;
    const returnTo = `${h.gh.url}/t/${T}/signed-out`;
    const page = await browser.request(`${ssp.sloUrl}?ReturnTo=${encodeURIComponent(returnTo)}`);
    expect(page.trail.some((u) => u.startsWith(h.gh.services.saml.urls(T, C).slo))).toBe(true);
    expect(page.url).toBe(returnTo);
    expect(h.endedSessions.slice(ended)).toContainEqual({ tenantId: T, accountId, connectionId: C });
    expect((await sessions.listByAccount(accountId)).map((x) => x.id)).toEqual(before.slice(1).map((x) => x.id));
  });

  it('SP-initiated single logout: Gatehouse asks SimpleSAMLphp to end its session, and continues when it answers', async () => {
    const browser = new TestBrowser();
    await signIn(browser, 'carol');
    const accountId = h.signIns.at(-1)!.user.id;
    const returnTo = `${h.gh.url}/t/${T}/signed-out`;
    const instruction = await h.gh.services.samlLogout.beginLogout({ tenantId: T, accountId, returnTo });
    expect(instruction?.type).toBe('redirect');
    const page = await browser.request((instruction as { url: string }).url);
    expect(page.url).toBe(returnTo);
    const completed = await h.gh.services.store.forTenant(T).audit.list({ action: 'saml.logout_completed' });
    expect(completed.find((e) => e.actorId === accountId)).toMatchObject({ outcome: 'success' });
    // SimpleSAMLphp's session ended too: a new sign-in asks for the password again.
    const { instruction: next } = await h.begin(T, C, 'interaction-again');
    const login = await browser.request((next as { url: string }).url);
    expect(readForm(login, 'AuthState').fields).toHaveProperty('username');
  });
});
