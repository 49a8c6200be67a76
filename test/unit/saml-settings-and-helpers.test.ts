import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { samlConnectionInputSchema } from '../../src/connectors/saml/saml-connection-schema.js';
import { generateKeyWithCertificate, keyMatchesCertificate } from '../../src/crypto/self-signed-certificate.js';
import { translateNodeSamlError } from '../../src/connectors/saml/checks/library-check.js';
import { decodeRedirectMessage } from '../../src/connectors/saml/saml-redirect-binding.js';
import { SamlCheckFailure } from '../../src/connectors/saml/saml-errors.js';
import { SamlStatusError } from '@node-saml/node-saml';

const problems = (input: unknown) => {
  const parsed = samlConnectionInputSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const manual = { entityId: 'https://idp.example', ssoUrl: 'https://idp.example/sso', signingCertificates: ['x'.repeat(120)] };

describe('SAML connection settings', () => {
  it('defaults to the safe choices: signed requests, SHA-256 only, no IdP-initiated sign-in, persistent NameIDs, one minute of skew', () => {
    const parsed = samlConnectionInputSchema.parse({ id: 'partner', displayName: 'Partner', idp: manual });
    expect(parsed).toMatchObject({ signAuthnRequests: true, allowSha1: false, allowIdpInitiated: false, nameIdFormat: 'persistent', clockSkewSeconds: 60, trustPartnerMfa: false, provisioning: { mode: 'jit' } });
  });

  it('names every problem: no partner, several metadata sources, IdP-initiated without an app, transient without an id attribute, link without linkBy', () => {
    expect(problems({ id: 'p', displayName: 'P', idp: {} })).toEqual(expect.arrayContaining([expect.stringMatching(/^idp.entityId: /), expect.stringMatching(/^idp.ssoUrl: /), expect.stringMatching(/^idp.signingCertificates: /)]));
    expect(problems({ id: 'p', displayName: 'P', idp: { metadataUrl: 'https://idp.example/md', metadataXml: '<x/>' } })).toEqual([expect.stringContaining('give one of')]);
    expect(problems({ id: 'p', displayName: 'P', idp: manual, allowIdpInitiated: true })).toEqual([expect.stringMatching(/^defaultApp: /)]);
    expect(problems({ id: 'p', displayName: 'P', idp: manual, nameIdFormat: 'transient' })).toEqual([expect.stringMatching(/^attributes.externalId: /)]);
    expect(problems({ id: 'p', displayName: 'P', idp: manual, provisioning: { mode: 'link' } })).toEqual([expect.stringMatching(/^provisioning.linkBy: /)]);
    expect(problems({ id: 'Bad_Id', displayName: 'P', idp: manual, unknown: 1 })).toHaveLength(2);
    expect(problems({ id: 'p', displayName: 'P', idp: { metadataUrl: 'http://idp.example/md' } })).toEqual([expect.stringContaining('https')]);
    expect(problems({ id: 'p', displayName: 'P', idp: { metadataUrl: 'http://127.0.0.1:8480/md' } })).toEqual([]);
  });

  it('normalises domains to lower case, once each', () => {
    expect(samlConnectionInputSchema.parse({ id: 'p', displayName: 'P', idp: manual, domains: ['Partner.Example', 'partner.example'] }).domains).toEqual(['partner.example']);
    expect(problems({ id: 'p', displayName: 'P', idp: manual, domains: ['not a domain'] })).toHaveLength(1);
  });
});

describe('self-signed certificates for SP keys', () => {
  it('makes an X.509 certificate that parses, self-verifies and matches its key', async () => {
    const now = Date.UTC(2031, 0, 1);
    const { privateKeyPem, certificatePem } = await generateKeyWithCertificate({ commonName: 'Gatehouse SP acme/partner', now, validDays: 3650 });
    const cert = new X509Certificate(certificatePem);
    expect(cert.subject).toBe('CN=Gatehouse SP acme/partner');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBe(now + 3650 * 86_400_000);
    expect(keyMatchesCertificate(privateKeyPem, certificatePem)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });
});

describe('node-saml errors at the boundary', () => {
  it('are translated into stable codes, narrowly, with everything else a library refusal', () => {
    expect(translateNodeSamlError(new Error('Invalid signature')).code).toBe('saml.signature_invalid');
    expect(translateNodeSamlError(new Error('Invalid document signature')).code).toBe('saml.signature_invalid');
    expect(translateNodeSamlError(new Error('SAML assertion audience mismatch. Expected: a Received: b')).code).toBe('saml.audience_mismatch');
    expect(translateNodeSamlError(new Error('Invalid signature: multiple assertions')).code).toBe('saml.assertion_count');
    expect(translateNodeSamlError(new SamlStatusError('SAML provider returned Responder error: x', '<Status/>')).code).toBe('saml.status_not_success');
    expect(translateNodeSamlError(new Error('something new')).code).toBe('saml.library_refused');
  });
});

describe('the Redirect binding decoder', () => {
  it('inflates a message and refuses a DEFLATE bomb', () => {
    expect(decodeRedirectMessage(deflateRawSync('<x/>').toString('base64'))).toBe('<x/>');
    const bomb = deflateRawSync(Buffer.alloc(10 * 1024 * 1024, 0x20)).toString('base64');
    expect(bomb.length).toBeLessThan(20_000);
    expect(() => decodeRedirectMessage(bomb)).toThrow(SamlCheckFailure);
    expect(() => decodeRedirectMessage('%%%')).toThrow(/not base64/);
  });
});

describe('the README\'s list of SAML checks', () => {
  it('names every response check, in the order they run', async () => {
    const { readFileSync } = await import('node:fs');
    const { RESPONSE_CHECKS } = await import('../../src/connectors/saml/checks/response-checks-list.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('**Checks.**'), readme.indexOf('Logout messages pass'));
    const listed = [...section.matchAll(/^\d+\. `([a-z.-]+)`/gm)].map((m) => m[1]);
    expect(listed).toEqual(RESPONSE_CHECKS.map((c) => c.name));
  });
});
