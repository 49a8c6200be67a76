import { describe, expect, it } from '@jest/globals';
import { generateKeyWithCertificate } from '../../src/crypto/self-signed-certificate.js';
import { parseIdpMetadata } from '../../src/connectors/saml/saml-metadata-parser.js';

const now = Date.UTC(2031, 0, 1);
const cert = async (cn: string) => (await generateKeyWithCertificate({ commonName: cn, now, validDays: 30 })).certificatePem.replace(/-----[A-Z ]+-----|\s/g, '');
const [A, B, ENC] = await Promise.all([cert('a'), cert('b'), cert('enc')]);

function entity(entityId: string, keys: string, extra = '') {
  return (
    `<md:EntityDescriptor entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/slo" ResponseLocation="https://idp.example/slo-r"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso-post"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example/soap"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>${extra}` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}
const key = (use: string | undefined, c: string) => `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const doc = (body: string, attrs = '') => `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"${attrs}>${body}</md:EntitiesDescriptor>`;

describe('partner metadata parsing ([SAMLMeta] 2.3, 2.4)', () => {
  it('takes signing keys (use="signing" or no use, never use="encryption"), Redirect-first SSO and SLO endpoints', () => {
    const parsed = parseIdpMetadata(doc(entity('https://idp.example', key('signing', A) + key(undefined, B) + key('encryption', ENC))), { now });
    expect(parsed.entityId).toBe('https://idp.example');
    expect(parsed.signingCertificates.map((p) => p.replace(/-----[A-Z ]+-----|\s/g, ''))).toEqual([A, B]);
    expect(parsed.sso).toEqual([{ binding: 'redirect', url: 'https://idp.example/sso' }, { binding: 'post', url: 'https://idp.example/sso-post' }]);
    expect(parsed.slo).toEqual([{ binding: 'post', url: 'https://idp.example/slo', responseUrl: 'https://idp.example/slo-r' }]);
  });

  it('chooses one IdP of an aggregate by entity id, and asks for one when there are several', () => {
    const aggregate = doc(entity('https://one.example', key('signing', A)) + entity('https://two.example', key('signing', B)));
    expect(parseIdpMetadata(aggregate, { now, entityId: 'https://two.example' }).entityId).toBe('https://two.example');
    expect(() => parseIdpMetadata(aggregate, { now })).toThrow(/2 identity providers; set idp.entityId/);
    expect(() => parseIdpMetadata(aggregate, { now, entityId: 'https://three.example' })).toThrow(/no identity provider with entityID/);
  });

  it('refuses expired metadata, a DOCTYPE, no signing key, no usable SSO endpoint, and unreadable certificates', () => {
    expect(() => parseIdpMetadata(doc(entity('e', key('signing', A)), ' validUntil="2030-01-01T00:00:00Z"'), { now })).toThrow(/expired/);
    expect(() => parseIdpMetadata(`<!DOCTYPE x [<!ENTITY e "x">]>${doc(entity('e', key('signing', A)))}`, { now })).toThrow(/DOCTYPE/);
    expect(() => parseIdpMetadata(doc(entity('e', key('encryption', A))), { now })).toThrow(/no signing certificate/);
    expect(() => parseIdpMetadata(doc(entity('e', key('signing', 'AAAA'))), { now })).toThrow(/cannot be read/);
    const soapOnly = doc(entity('e', key('signing', A)).replace(/<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-(POST|Redirect)"[^>]*\/>/g, ''));
    expect(() => parseIdpMetadata(soapOnly, { now })).toThrow(/no SingleSignOnService/);
  });
});
