import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import {
  ASSERTION_XPATH,
  SAML,
  assertionXml,
  b64,
  createTestIdp,
  find,
  logoutRequestXml,
  logoutResponseXml,
  opensslKeyPair,
  parse,
  readRedirectMessage,
  redirectBindingUrl,
  responseXml,
  signElement,
  signRoot,
  type TestIdp,
} from '../helpers/saml-test-idp.js';
import { verifyEnvelopedSignature } from '../../src/connectors/saml/xml-signature.js';
import { parseXml } from '../../src/connectors/saml/saml-xml.js';

/**
 * Single logout with the test IdP: the partner signs a person out of Gatehouse (IdP-initiated),
 * and Gatehouse asks the partner to end its session (SP-initiated), with the Redirect and POST
 * bindings, every message signed both ways.
 */

const T = 'acme';
let h: SamlHarness;
let idp: TestIdp;
let spCert: Record<string, string> = {};

/** Signs a person in through `connection`; returns the account and the partner session index. */
async function signIn(connection: string, nameId: string) {
  const { requestId, relayState } = await h.begin(T, connection);
  const urls = h.gh.services.saml.urls(T, connection);
  const now = h.gh.services.clock.now();
  const sessionIndex = `_s-${nameId}`;
  const assertion = assertionXml({ now, issuer: idp.entityId, nameId, recipient: urls.acs, audience: urls.entityId, inResponseTo: requestId, sessionIndex });
  const xml = signElement(responseXml({ now, destination: urls.acs, inResponseTo: requestId, issuer: idp.entityId, body: assertion }), ASSERTION_XPATH, idp.keys);
  const result = await h.post(T, connection, b64(xml), relayState);
  expect(result.status).toBe(200);
  return { accountId: result.signIn!.user.id, sessionIndex };
}

const slo = (connection: string) => h.gh.services.saml.urls(T, connection).slo;

beforeAll(async () => {
  h = await startSamlHarness();
  idp = createTestIdp();
  const s = h.gh.services;
  await s.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
  const store = s.store.forTenant(T);
  await s.saml.create(store, { id: 'redirect', displayName: 'Redirect SLO', idp: { metadataXml: idp.metadataXml() } }, OPERATOR);
  await s.saml.create(store, { id: 'post', displayName: 'POST SLO', idp: { metadataXml: idp.metadataXml(), sloUrl: 'https://idp.partner.example/slo-post', sloBinding: 'post' } }, OPERATOR);
  for (const id of ['redirect', 'post']) spCert[id] = (await s.saml.get(store, id)).spCertificates.signing;
});
afterAll(async () => h?.close());

describe('IdP-initiated single logout', () => {
  it('Redirect binding: ends the person\'s Gatehouse sessions and answers with a signed LogoutResponse carrying the RelayState back', async () => {
    const { accountId, sessionIndex } = await signIn('redirect', 'slo-ann');
    const url = redirectBindingUrl(slo('redirect'), 'SAMLRequest', logoutRequestXml({ now: Date.now(), destination: slo('redirect'), issuer: idp.entityId, nameId: 'slo-ann', sessionIndex }), { relayState: 'rs-1', keys: idp.keys });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(h.endedSessions).toContainEqual({ tenantId: T, accountId, connectionId: 'redirect' });
    const answer = readRedirectMessage(res.headers.get('location')!, spCert.redirect);
    expect(res.headers.get('location')!.startsWith(`${idp.sloUrl}?`)).toBe(true);
    expect(answer.signatureValid).toBe(true);
    expect(answer.relayState).toBe('rs-1');
    expect(answer.xml.documentElement!.localName).toBe('LogoutResponse');
    expect(find(answer.xml, 'StatusCode').getAttribute('Value')).toBe(SAML.success);
    expect(await h.gh.services.store.forTenant(T).saml.sessions.listByAccount(accountId)).toEqual([]);
    expect(await auditOf(h.gh, T, 'saml.logout_received', res.headers.get('x-request-id')!)).toMatchObject({ outcome: 'success', details: { accounts: [accountId] } });
  });

  it('POST binding: accepts an XML-signed LogoutRequest and answers with an XML-signed LogoutResponse in an auto-posting page', async () => {
    const { accountId, sessionIndex } = await signIn('post', 'slo-ben');
    const request = signRoot(logoutRequestXml({ now: Date.now(), destination: slo('post'), issuer: idp.entityId, nameId: 'slo-ben', sessionIndex }), idp.keys);
    const res = await fetch(slo('post'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLRequest: b64(request) }) });
    expect(res.status).toBe(200);
    expect(h.endedSessions).toContainEqual({ tenantId: T, accountId, connectionId: 'post' });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("form-action 'self' https://idp.partner.example");
    const page = await res.text();
    expect(page).toContain('action="https://idp.partner.example/slo-post"');
    const value = /name="SAMLResponse" value="([^"]+)"/.exec(page)![1]!;
    const xml = Buffer.from(value, 'base64').toString('utf8');
    const doc = parseXml(xml);
    expect(doc.documentElement!.getAttribute('InResponseTo')).toBe(parse(request).documentElement!.getAttribute('ID'));
    expect(verifyEnvelopedSignature(xml, find(doc, 'Signature'), [spCert.post!], { allowSha1: false })).toContain('LogoutResponse');
  });

  it('refuses an unsigned LogoutRequest, one signed by another key, and one for another endpoint (no session ends)', async () => {
    const { sessionIndex } = await signIn('redirect', 'slo-cat');
    const ended = h.endedSessions.length;
    const message = (destination = slo('redirect')) => logoutRequestXml({ now: Date.now(), destination, issuer: idp.entityId, nameId: 'slo-cat', sessionIndex });
    const cases: Array<[string, string]> = [
      [redirectBindingUrl(slo('redirect'), 'SAMLRequest', message()), 'saml.signature_missing'],
      [redirectBindingUrl(slo('redirect'), 'SAMLRequest', message(), { keys: opensslKeyPair('attacker') }), 'saml.signature_invalid'],
      [redirectBindingUrl(slo('redirect'), 'SAMLRequest', message(), { keys: idp.keys, sigAlg: SAML.rsaSha1 }), 'saml.weak_algorithm'],
      [redirectBindingUrl(slo('redirect'), 'SAMLRequest', message(slo('post')), { keys: idp.keys }), 'saml.destination_mismatch'],
    ];
    for (const [url, reason] of cases) {
      const res = await fetch(url, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('Sign-out could not be completed');
      expect(await auditOf(h.gh, T, 'saml.logout_refused', res.headers.get('x-request-id')!)).toMatchObject({ reason });
    }
    expect(h.endedSessions.length).toBe(ended);
  });
});

describe('SP-initiated single logout', () => {
  it('Redirect binding: sends a signed LogoutRequest naming the partner session, and continues to returnTo when the partner answers', async () => {
    const { accountId, sessionIndex } = await signIn('redirect', 'slo-dee');
    const returnTo = `${h.gh.url}/t/${T}/logged-out`;
    const instruction = await h.gh.services.samlLogout.beginLogout({ tenantId: T, accountId, returnTo });
    expect(instruction?.type).toBe('redirect');
    const request = readRedirectMessage((instruction as { url: string }).url, spCert.redirect);
    expect(request.signatureValid).toBe(true);
    expect(request.xml.documentElement!.localName).toBe('LogoutRequest');
    expect(find(request.xml, 'NameID').textContent).toBe('slo-dee');
    expect(find(request.xml, 'SessionIndex').textContent).toBe(sessionIndex);
    expect(await h.gh.services.store.forTenant(T).saml.sessions.listByAccount(accountId)).toEqual([]);

    const answer = redirectBindingUrl(slo('redirect'), 'SAMLResponse', logoutResponseXml({ now: Date.now(), destination: slo('redirect'), issuer: idp.entityId, inResponseTo: request.id }), { keys: idp.keys });
    const res = await fetch(answer, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(returnTo);
    // The same answer again: the request was answered.
    const again = await fetch(answer, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.logout_refused', again.headers.get('x-request-id')!)).toMatchObject({ reason: 'saml.in_response_to_used' });
  });

  it('POST binding: posts an XML-signed LogoutRequest and accepts an XML-signed LogoutResponse', async () => {
    const { accountId } = await signIn('post', 'slo-eve');
    const instruction = await h.gh.services.samlLogout.beginLogout({ tenantId: T, accountId, returnTo: `/t/${T}/logged-out` });
    expect(instruction).toMatchObject({ type: 'post', url: 'https://idp.partner.example/slo-post' });
    const xml = Buffer.from((instruction as { fields: Record<string, string> }).fields.SAMLRequest!, 'base64').toString('utf8');
    const doc = parseXml(xml);
    expect(verifyEnvelopedSignature(xml, find(doc, 'Signature'), [spCert.post!], { allowSha1: false })).toContain('slo-eve');
    const response = signRoot(logoutResponseXml({ now: Date.now(), destination: slo('post'), issuer: idp.entityId, inResponseTo: doc.documentElement!.getAttribute('ID')! }), idp.keys);
    const res = await fetch(slo('post'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLResponse: b64(response) }) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${h.gh.url}/t/${T}/logged-out`);
  });

  it('returns nothing to do for a person without a partner session, refuses a returnTo outside Gatehouse, and refuses an answer to a request never sent', async () => {
    expect(await h.gh.services.samlLogout.beginLogout({ tenantId: T, accountId: 'nobody', returnTo: '/t/acme/x' })).toBeUndefined();
    await expect(h.gh.services.samlLogout.beginLogout({ tenantId: T, accountId: 'nobody', returnTo: 'https://evil.example/' })).rejects.toMatchObject({ code: 'saml.invalid_return_to' });
    const res = await fetch(redirectBindingUrl(slo('redirect'), 'SAMLResponse', logoutResponseXml({ now: Date.now(), destination: slo('redirect'), issuer: idp.entityId, inResponseTo: '_never' }), { keys: idp.keys }));
    expect(res.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.logout_refused', res.headers.get('x-request-id')!)).toMatchObject({ reason: 'saml.in_response_to_unknown', details: { check: 'logout.in-response-to' } });
  });
});
