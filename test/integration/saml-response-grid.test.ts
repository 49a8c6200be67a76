import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/clock.js';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import {
  ASSERTION_XPATH,
  RESPONSE_XPATH,
  SAML,
  assertionXml,
  b64,
  createTestIdp,
  encryptAssertion,
  find,
  opensslKeyPair,
  parse,
  responseXml,
  serialize,
  signElement,
  type AssertionOptions,
  type KeyPair,
  type SignOptions,
  type TestIdp,
} from '../helpers/saml-test-idp.js';
import type { SamlSpUrls } from '../../src/connectors/saml/saml-sp-urls.js';
import { verifyEnvelopedSignature } from '../../src/connectors/saml/xml-signature.js';
import { parseXml } from '../../src/connectors/saml/saml-xml.js';

/**
 * The fixture grid: real responses signed by a test IdP's own key (and encrypted to the
 * connection's own certificate), posted to the real ACS of a running Gatehouse. Each case is
 * named by what it is; each refusal names the stable code, and the audit log must name the
 * precise check that refused it.
 */

const T = 'acme';
let h: SamlHarness;
let idp: TestIdp;
let attacker: KeyPair;
const clock = new ManualClock(Date.UTC(2031, 0, 15, 12, 0, 0));
const urls: Record<string, SamlSpUrls> = {};
const encryptionCert: Record<string, string> = {};

interface Scenario {
  connection: string;
  requestId: string;
  relayState: string;
  now: number;
  urls: SamlSpUrls;
}

async function solicited(connection = 'partner'): Promise<Scenario> {
  const { requestId, relayState } = await h.begin(T, connection);
  return { connection, requestId, relayState, now: clock.now(), urls: urls[connection]! };
}

const ATTRIBUTES = { mail: ['alice@partner.example'], givenName: ['Alice'], sn: ['Anderson'], groups: ['engineering', 'admins'] };

function assertion(s: Scenario, over: Partial<AssertionOptions> = {}): string {
  return assertionXml({
    now: s.now,
    issuer: idp.entityId,
    nameId: 'alice-0001',
    recipient: s.urls.acs,
    audience: s.urls.entityId,
    inResponseTo: s.requestId || null,
    attributes: ATTRIBUTES,
    ...over,
  });
}

function response(s: Scenario, body: string, over: Parameters<typeof responseXml>[0] extends infer P ? Partial<P> : never = {}): string {
  return responseXml({ now: s.now, destination: s.urls.acs, inResponseTo: s.requestId || null, issuer: idp.entityId, body, ...over });
}

const idpKey = (): SignOptions => ({ key: idp.keys.key, cert: idp.keys.cert });
const signA = (xml: string, o: SignOptions = idpKey()) => signElement(xml, ASSERTION_XPATH, o);
const signR = (xml: string, o: SignOptions = idpKey()) => signElement(xml, RESPONSE_XPATH, o);
const signedAssertionResponse = (s: Scenario, over: Partial<AssertionOptions> = {}) => signA(response(s, assertion(s, over)));

interface GridCase {
  name: string;
  connection?: string;
  build(s: Scenario): string | Promise<string>;
  relayState?(s: Scenario): string | Promise<string>;
  expect: 'accepted' | string;
  /** The check the audit log must name for a refusal. */
  check?: string;
}

const GRID: GridCase[] = [
  // ---- accepted ----
  { name: 'response-signed.assertion-unsigned', build: (s) => signR(response(s, assertion(s))), expect: 'accepted' },
  { name: 'response-unsigned.assertion-signed', build: (s) => signedAssertionResponse(s), expect: 'accepted' },
  { name: 'response-signed.assertion-signed', build: (s) => signR(signedAssertionResponse(s)), expect: 'accepted' },
  {
    name: 'response-unsigned.assertion-signed-then-encrypted',
    build: async (s) => {
      const signed = serialize(find(parse(signA(response(s, assertion(s)))), 'Assertion'));
      return response(s, await encryptAssertion(signed, encryptionCert.partner!));
    },
    expect: 'accepted',
  },
  {
    name: 'response-signed.assertion-encrypted-unsigned',
    build: async (s) => signR(response(s, await encryptAssertion(assertion(s), encryptionCert.partner!))),
    expect: 'accepted',
  },
  { name: 'response-signed.assertion-signed.with-xml-declaration', build: (s) => `<?xml version="1.0" encoding="UTF-8"?>\n${signR(signedAssertionResponse(s))}`, expect: 'accepted' },
  {
    name: 'response-signed.processing-instruction-inside',
    build: (s) => signR(response(s, assertion(s))).replace('<samlp:Status>', '<?evil do-something?><samlp:Status>'),
    expect: 'saml.xml_comment_forbidden',
    check: 'xml.no-comments',
  },
  { name: 'response-unsigned.assertion-signed.not-before-within-clock-skew', build: (s) => signedAssertionResponse(s, { notBefore: s.now + 30_000 }), expect: 'accepted' },
  {
    name: 'response-signed.sha1.connection-allows-sha1',
    connection: 'partner-sha1',
    build: (s) => signR(response(s, assertion(s)), { ...idpKey(), signatureAlgorithm: SAML.rsaSha1, digestAlgorithm: SAML.sha1 }),
    expect: 'accepted',
  },

  // ---- refused: signatures ----
  { name: 'response-unsigned.assertion-unsigned', build: (s) => response(s, assertion(s)), expect: 'saml.signature_missing', check: 'signature.required' },
  { name: 'response-signed.by-another-key', build: (s) => signR(response(s, assertion(s)), attacker), expect: 'saml.signature_invalid', check: 'signature.response' },
  {
    name: 'assertion-signed.by-another-key.its-certificate-in-keyinfo',
    build: (s) => signA(response(s, assertion(s)), attacker),
    expect: 'saml.signature_invalid',
    check: 'signature.assertion',
  },
  {
    name: 'assertion-signed.attribute-changed-after-signing',
    build: (s) => signedAssertionResponse(s).replace('alice@partner.example', 'admin@partner.example'),
    expect: 'saml.signature_invalid',
    check: 'signature.assertion',
  },
  {
    name: 'response-signed.nameid-changed-after-signing',
    build: (s) => signR(response(s, assertion(s))).replace('>alice-0001<', '>admin-0001<'),
    expect: 'saml.signature_invalid',
    check: 'signature.response',
  },
  {
    name: 'response-signed.sha1-without-opt-in',
    build: (s) => signR(response(s, assertion(s)), { ...idpKey(), signatureAlgorithm: SAML.rsaSha1, digestAlgorithm: SAML.sha1 }),
    expect: 'saml.weak_algorithm',
    check: 'signature.placement-and-algorithms',
  },
  {
    name: 'assertion-signed.sha256-signature-sha1-digest-without-opt-in',
    build: (s) => signA(response(s, assertion(s)), { ...idpKey(), digestAlgorithm: SAML.sha1 }),
    expect: 'saml.weak_algorithm',
    check: 'signature.placement-and-algorithms',
  },

  // ---- refused: signature wrapping ----
  {
    name: 'assertion-signed.wrapped-in-extensions.forged-assertion-in-its-place',
    build: (s) => {
      const genuine = serialize(find(parse(signedAssertionResponse(s)), 'Assertion'));
      return response(s, assertion(s, { nameId: 'admin-0001' }), { extensions: genuine });
    },
    expect: 'saml.assertion_count',
    check: 'response.single-assertion',
  },
  {
    name: 'assertion-signed.forged-assertion-as-sibling-before-it',
    build: (s) => {
      const genuine = serialize(find(parse(signedAssertionResponse(s)), 'Assertion'));
      return response(s, assertion(s, { nameId: 'admin-0001' }) + genuine);
    },
    expect: 'saml.assertion_count',
    check: 'response.single-assertion',
  },
  {
    name: 'assertion-signed.wrapped-in-forged-assertion-advice',
    build: (s) => {
      const genuine = serialize(find(parse(signedAssertionResponse(s)), 'Assertion'));
      const forged = assertion(s, { nameId: 'admin-0001' }).replace('<saml:Conditions', `<saml:Advice>${genuine}</saml:Advice><saml:Conditions`);
      return response(s, forged);
    },
    expect: 'saml.assertion_count',
    check: 'response.single-assertion',
  },
  {
    name: 'assertion-signed.forged-assertion-with-same-id',
    build: (s) => {
      const genuineDoc = parse(signedAssertionResponse(s));
      const genuine = find(genuineDoc, 'Assertion');
      const forged = assertion(s, { nameId: 'admin-0001', assertionId: genuine.getAttribute('ID')! });
      return response(s, forged, { extensions: serialize(genuine) });
    },
    expect: 'saml.duplicate_id',
    check: 'xml.unique-ids',
  },
  {
    name: 'assertion-signed.forged-assertion-with-same-id-in-a-prefixed-attribute',
    build: (s) => {
      const genuine = find(parse(signedAssertionResponse(s)), 'Assertion');
      const forged = assertion(s, { nameId: 'admin-0001' }).replace(/ ID="[^"]+"/, ` xmlns:x="urn:x" x:ID="${genuine.getAttribute('ID')}" ID="_forged"`);
      return response(s, forged, { extensions: serialize(genuine) });
    },
    expect: 'saml.duplicate_id',
    check: 'xml.unique-ids',
  },
  {
    name: 'response-signed.original-wrapped-in-evil-response',
    build: (s) => {
      const original = parse(signR(response(s, assertion(s))));
      const signature = serialize(find(original, 'Signature'));
      const evil = response(s, assertion(s, { nameId: 'admin-0001' }), { extensions: serialize(original.documentElement!) });
      return evil.replace(`</saml:Issuer>`, `</saml:Issuer>${signature}`);
    },
    expect: 'saml.assertion_count',
    check: 'response.single-assertion',
  },
  {
    name: 'assertion-signature-moved-to-response.references-the-assertion',
    build: (s) => {
      const doc = parse(signedAssertionResponse(s));
      const signature = find(find(doc, 'Assertion'), 'Signature');
      signature.parentNode!.removeChild(signature);
      const issuer = find(doc, 'Issuer');
      doc.documentElement!.insertBefore(signature, issuer.nextSibling);
      return serialize(doc);
    },
    expect: 'saml.signature_placement',
    check: 'signature.placement-and-algorithms',
  },

  // ---- refused: where the response is going, and for whom ----
  { name: 'assertion-signed.wrong-audience', build: (s) => signedAssertionResponse(s, { audience: 'https://other-sp.example/metadata' }), expect: 'saml.audience_mismatch', check: 'assertion.audience' },
  {
    name: 'assertion-signed.wrong-destination.another-tenants-acs',
    build: (s) => signA(response(s, assertion(s), { destination: s.urls.acs.replace('/t/acme/', '/t/beta/') })),
    expect: 'saml.destination_mismatch',
    check: 'response.destination',
  },
  {
    name: 'assertion-signed.wrong-recipient.another-tenants-acs',
    build: (s) => signedAssertionResponse(s, { recipient: s.urls.acs.replace('/t/acme/', '/t/beta/') }),
    expect: 'saml.recipient_mismatch',
    check: 'assertion.subject-confirmation',
  },
  { name: 'assertion-signed.wrong-issuer', build: (s) => signA(response(s, assertion(s, { issuer: 'https://evil.example/idp' }))), expect: 'saml.issuer_mismatch', check: 'assertion.issuer' },
  {
    name: 'response-signed.wrong-response-issuer',
    build: (s) => signR(response(s, assertion(s), { issuer: 'https://evil.example/idp' })),
    expect: 'saml.issuer_mismatch',
    check: 'response.issuer',
  },

  // ---- refused: time ----
  { name: 'assertion-signed.expired', build: (s) => signedAssertionResponse(s, { subjectNotOnOrAfter: s.now - 120_000, notOnOrAfter: s.now - 120_000 }), expect: 'saml.subject_confirmation_expired', check: 'assertion.subject-confirmation' },
  { name: 'assertion-signed.conditions-expired', build: (s) => signedAssertionResponse(s, { notOnOrAfter: s.now - 120_000 }), expect: 'saml.assertion_expired', check: 'assertion.conditions-time' },
  { name: 'assertion-signed.not-yet-valid', build: (s) => signedAssertionResponse(s, { notBefore: s.now + 120_000 }), expect: 'saml.assertion_not_yet_valid', check: 'assertion.conditions-time' },

  // ---- refused: requests and RelayState ----
  {
    name: 'assertion-signed.unknown-in-response-to',
    build: (s) => signedAssertionResponse({ ...s, requestId: '_never-sent' }),
    expect: 'saml.in_response_to_unknown',
    check: 'response.in-response-to',
  },
  {
    name: 'assertion-signed.unsolicited.connection-refuses-idp-initiated',
    build: (s) => signedAssertionResponse({ ...s, requestId: '' }),
    expect: 'saml.unsolicited_response',
    check: 'response.in-response-to',
  },
  {
    name: 'assertion-signed.subject-answers-another-request',
    build: async (s) => {
      const other = await solicited();
      return signA(response(s, assertion(s, { subjectInResponseTo: other.requestId })));
    },
    expect: 'saml.in_response_to_mismatch',
    check: 'assertion.subject-confirmation',
  },
  { name: 'assertion-signed.relay-state-changed', build: (s) => signedAssertionResponse(s), relayState: () => 'tampered-relay-state', expect: 'saml.relay_state_mismatch', check: 'binding.relay-state' },
  {
    name: 'assertion-signed.relay-state-of-another-request',
    build: (s) => signedAssertionResponse(s),
    relayState: async () => (await solicited()).relayState,
    expect: 'saml.relay_state_mismatch',
    check: 'binding.relay-state',
  },

  // ---- refused: XML ----
  {
    name: 'assertion-signed.comment-injected-in-nameid',
    build: (s) => signedAssertionResponse(s, { nameId: 'alice@evil.example.good.example' }).replace('alice@evil.example.good.example', 'alice@evil.example<!---->.good.example'),
    expect: 'saml.xml_comment_forbidden',
    check: 'xml.no-comments',
  },
  {
    name: 'assertion-signed.doctype-with-entity',
    build: (s) => `<?xml version="1.0"?><!DOCTYPE samlp:Response [<!ENTITY who "admin">]>${signedAssertionResponse(s)}`,
    expect: 'saml.doctype_forbidden',
    check: 'xml.no-doctype',
  },
  { name: 'not-xml', build: () => 'this is not XML at all', expect: 'saml.message_malformed', check: 'xml.well-formed' },

  // ---- refused: status and encryption ----
  {
    name: 'response-signed.status-responder-carrying-a-valid-assertion',
    build: (s) => signR(response(s, assertion(s), { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder' })),
    expect: 'saml.status_not_success',
    check: 'response.status',
  },
  {
    name: 'assertion-encrypted.to-another-key',
    build: async (s) => signR(response(s, await encryptAssertion(assertion(s), attacker.cert))),
    expect: 'saml.decryption_failed',
    check: 'assertion.decrypt',
  },
  {
    name: 'assertion-encrypted.rsa-1_5-key-transport',
    build: async (s) => signR(response(s, await encryptAssertion(assertion(s), encryptionCert.partner!, { keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' }))),
    expect: 'saml.algorithm_not_allowed',
    check: 'assertion.decrypt',
  },
];

beforeAll(async () => {
  h = await startSamlHarness({ clock });
  idp = createTestIdp();
  attacker = opensslKeyPair('attacker');
  const s = h.gh.services;
  await s.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
  await s.tenants.create({ id: 'beta', displayName: 'Beta' }, OPERATOR);
  const store = s.store.forTenant(T);
  await s.clients.create(store, { clientId: 'portal', redirectUris: ['https://portal.acme.example/cb'], firstParty: true }, OPERATOR);
  const base = { idp: { metadataXml: idp.metadataXml() } };
  await s.saml.create(store, { ...base, id: 'partner', displayName: 'Partner', domains: ['partner.example'] }, OPERATOR);
  await s.saml.create(store, { ...base, id: 'partner-sha1', displayName: 'Legacy partner', allowSha1: true }, OPERATOR);
  await s.saml.create(store, { ...base, id: 'partner-idp', displayName: 'IdP-initiated partner', allowIdpInitiated: true, defaultApp: 'portal' }, OPERATOR);
  for (const id of ['partner', 'partner-sha1', 'partner-idp']) {
    urls[id] = s.saml.urls(T, id);
    encryptionCert[id] = (await s.saml.get(store, id)).spCertificates.encryption;
  }
});
afterAll(async () => h?.close());

describe('SAML response fixture grid (real signatures from a test IdP, posted to the real ACS)', () => {
  for (const c of GRID) {
    it(`${c.expect === 'accepted' ? 'accepts' : 'refuses'} ${c.name}`, async () => {
      const s = await solicited(c.connection);
      const xml = await c.build(s);
      const relayState = c.relayState ? await c.relayState(s) : s.relayState;
      const result = await h.post(T, s.connection, b64(xml), relayState);
      if (c.expect === 'accepted') {
        expect(result.status).toBe(200);
        expect(result.signIn).toBeDefined();
        expect(result.signIn!.identity.externalId).toBe('alice-0001');
        expect(result.signIn!.interactionUid).toBe('interaction-1');
        return;
      }
      expect(result.status).toBe(400);
      expect(result.signIn).toBeUndefined();
      // The person sees a page with a reference, never the reason.
      expect(result.body).toContain('Sign-in with your organisation failed');
      expect(result.body).toMatch(/Reference: <code>[0-9a-f-]{36}<\/code>/);
      expect(result.body).not.toContain(c.expect);
      expect(result.body).toContain(result.requestId);
      const event = await auditOf(h.gh, T, 'saml.signin', result.requestId);
      expect(event).toMatchObject({ outcome: 'failure', reason: c.expect, targetId: s.connection });
      expect(event!.details).toMatchObject({ check: c.check });
      expect(String((event!.details as { spec: string }).spec)).toMatch(/\[|XML|SAML|node-saml/);
    });
  }

  it('lists every named check in the audit log of an accepted sign-in, signature checks before assertion checks', async () => {
    const s = await solicited();
    const result = await h.post(T, 'partner', b64(signedAssertionResponse(s)), s.relayState);
    expect(result.status).toBe(200);
    const event = await auditOf(h.gh, T, 'saml.signin', result.requestId);
    expect(event).toMatchObject({ outcome: 'success', actorId: result.signIn!.user.id, details: { signed: { response: false, assertion: true }, encrypted: false } });
  });

  it('refuses a solicited response posted a second time (its request was answered)', async () => {
    const s = await solicited();
    const xml = b64(signedAssertionResponse(s));
    expect((await h.post(T, 'partner', xml, s.relayState)).status).toBe(200);
    const again = await h.post(T, 'partner', xml, s.relayState);
    expect(again.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', again.requestId)).toMatchObject({ reason: 'saml.in_response_to_used' });
  });

  it('refuses a replayed unsolicited assertion with the replay cache, and accepts a fresh one', async () => {
    const s: Scenario = { connection: 'partner-idp', requestId: '', relayState: 'ignored', now: clock.now(), urls: urls['partner-idp']! };
    const xml = b64(signedAssertionResponse(s));
    const first = await h.post(T, 'partner-idp', xml, 'https://anything.example/');
    expect(first.status).toBe(200);
    expect(first.signIn).toMatchObject({ interactionUid: undefined, idpInitiated: { defaultApp: 'portal' } });
    const replay = await h.post(T, 'partner-idp', xml, 'https://anything.example/');
    expect(replay.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', replay.requestId)).toMatchObject({ reason: 'saml.assertion_replayed', details: { check: 'assertion.replay' } });
    expect((await h.post(T, 'partner-idp', b64(signedAssertionResponse(s)), undefined)).status).toBe(200);
  });

  it('refuses a response once the clock passed its validity, although it was valid when issued', async () => {
    const s = await solicited();
    const xml = b64(signedAssertionResponse(s));
    clock.advance(6 * 60_000 + 61_000); // past NotOnOrAfter (+5 min) and the 60 s skew
    try {
      const result = await h.post(T, 'partner', xml, s.relayState);
      expect(result.status).toBe(400);
      expect(await auditOf(h.gh, T, 'saml.signin', result.requestId)).toMatchObject({ reason: 'saml.subject_confirmation_expired' });
    } finally {
      clock.set(Date.UTC(2031, 0, 15, 12, 0, 0));
    }
  });

  it('would have verified the comment-injected NameID, and the signed bytes hold the whole value (why comments are refused)', async () => {
    const s = await solicited();
    const injected = signedAssertionResponse(s, { nameId: 'alice@evil.example.good.example' }).replace('alice@evil.example.good.example', 'alice@evil.example<!---->.good.example');
    const doc = parseXml(injected);
    const signature = find(find(doc, 'Assertion'), 'Signature');
    const signed = verifyEnvelopedSignature(injected, signature, [idp.keys.cert], { allowSha1: false });
    expect(signed).toContain('>alice@evil.example.good.example<');
    expect(find(doc, 'NameID').firstChild!.nodeValue).toBe('alice@evil.example');
  });

  it('refuses a continue hop from another browser (no binding cookie) and a second use of the hop', async () => {
    const s = await solicited();
    const res = await fetch(`${h.gh.url}/t/${T}/saml/partner/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: b64(signedAssertionResponse(s)), RelayState: s.relayState }),
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(res.headers.get('set-cookie')).toMatch(/httponly/i);
    expect(res.headers.get('set-cookie')).toMatch(/samesite=lax/i);
    const elsewhere = await fetch(location, { headers: { accept: 'text/html' } });
    expect(elsewhere.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', elsewhere.headers.get('x-request-id')!)).toMatchObject({ reason: 'saml.completion_other_browser' });
    expect((await fetch(location, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(location, { headers: { cookie } })).status).toBe(400);
  });

  it('signs AuthnRequests (Redirect binding, RSA-SHA256) with the connection key published in its metadata', async () => {
    const { instruction } = await h.begin(T, 'partner');
    expect(instruction.type).toBe('redirect');
    const url = new URL((instruction as { url: string }).url);
    expect(url.origin + url.pathname).toBe(idp.ssoUrl);
    expect(url.searchParams.get('SigAlg')).toBe(SAML.rsaSha256);
    const metadata = await (await fetch(urls.partner!.metadata)).text();
    const signingCert = /<md:KeyDescriptor use="signing">.*?<ds:X509Certificate>([^<]+)</s.exec(metadata)![1]!;
    const { readRedirectMessage } = await import('../helpers/saml-test-idp.js');
    const pem = `-----BEGIN CERTIFICATE-----\n${signingCert.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const message = readRedirectMessage(url.toString(), pem);
    expect(message.signatureValid).toBe(true);
    const request = message.xml.documentElement!;
    expect(request.getAttribute('AssertionConsumerServiceURL')).toBe(urls.partner!.acs);
    expect(request.getAttribute('Destination')).toBe(idp.ssoUrl);
    expect(find(message.xml, 'Issuer').textContent).toBe(urls.partner!.entityId);
    expect(find(message.xml, 'NameIDPolicy').getAttribute('Format')).toBe(SAML.persistent);
  });

  it('sends an XML-signed, uncompressed AuthnRequest with the HTTP-POST binding', async () => {
    const store = h.gh.services.store.forTenant(T);
    await h.gh.services.saml.update(store, 'partner-sha1', { authnRequestBinding: 'post' }, OPERATOR);
    const { instruction } = await h.begin(T, 'partner-sha1');
    expect(instruction).toMatchObject({ type: 'post', url: idp.ssoUrl, fields: { RelayState: expect.any(String) } });
    const xml = Buffer.from((instruction as { fields: Record<string, string> }).fields.SAMLRequest!, 'base64').toString('utf8');
    expect(xml).toMatch(/^(<\?xml[^>]*\?>)?<samlp:AuthnRequest/);
    const doc = parseXml(xml);
    const signature = find(doc, 'Signature');
    const spCert = (await h.gh.services.saml.get(store, 'partner-sha1')).spCertificates.signing;
    expect(verifyEnvelopedSignature(xml, signature, [spCert], { allowSha1: false })).toContain('AuthnRequest');
  });
});
