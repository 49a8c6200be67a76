import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { SamlSpUrls } from './saml-sp-urls.js';
import { BINDINGS, DATA_ENCRYPTION_ALGORITHMS, NAME_ID_FORMATS, NS } from './saml-constants.js';
import { certificateBody, xmlEscape } from './saml-xml.js';

/**
 * Gatehouse's metadata as the service provider of one connection ([SAMLMeta] 2.4.4,
 * SPSSODescriptor), in schema order: signing and encryption keys, single logout (Redirect and
 * POST), the NameID format asked for, and the POST assertion consumer service. Built here rather
 * than with node-saml's generator, which publishes a single (POST) logout endpoint.
 */
export function buildSpMetadata(connection: SamlConnectionRecord, urls: SamlSpUrls): string {
  const keyInfo = (pem: string) => `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;
  const settings = connection.settings;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}" entityID="${xmlEscape(urls.entityId)}">`,
    `  <md:SPSSODescriptor protocolSupportEnumeration="${NS.protocol}" AuthnRequestsSigned="${settings.signAuthnRequests}" WantAssertionsSigned="${settings.requireSignedAssertions}">`,
    `    <md:KeyDescriptor use="signing">${keyInfo(connection.spCertificates.signing)}</md:KeyDescriptor>`,
    `    <md:KeyDescriptor use="encryption">${keyInfo(connection.spCertificates.encryption)}`,
    ...DATA_ENCRYPTION_ALGORITHMS.map((a) => `      <md:EncryptionMethod Algorithm="${a}"/>`),
    '    </md:KeyDescriptor>',
    `    <md:SingleLogoutService Binding="${BINDINGS.redirect}" Location="${xmlEscape(urls.slo)}"/>`,
    `    <md:SingleLogoutService Binding="${BINDINGS.post}" Location="${xmlEscape(urls.slo)}"/>`,
    `    <md:NameIDFormat>${NAME_ID_FORMATS[settings.nameIdFormat]}</md:NameIDFormat>`,
    `    <md:AssertionConsumerService Binding="${BINDINGS.post}" Location="${xmlEscape(urls.acs)}" index="0" isDefault="true"/>`,
    '  </md:SPSSODescriptor>',
    '</md:EntityDescriptor>',
  ];
  return `${lines.join('\n')}\n`;
}
