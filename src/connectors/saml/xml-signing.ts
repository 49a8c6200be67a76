import { SignedXml } from 'xml-crypto';
import { ENVELOPED_SIGNATURE, EXC_C14N } from './saml-constants.js';

/**
 * Signs an outgoing SAML protocol message for the HTTP-POST binding: an enveloped RSA-SHA256
 * signature over the root element, placed right after `<Issuer>` as the schema requires
 * ([SAMLCore] 5.4; node-saml signs only AuthnRequests for POST, so logout messages are signed here).
 */
export function signSamlMessage(xml: string, privateKeyPem: string, certificatePem: string): string {
  const signer = new SignedXml({
    privateKey: privateKeyPem,
    publicCert: certificatePem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({ xpath: '/*', transforms: [ENVELOPED_SIGNATURE, EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  signer.computeSignature(xml, { location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' }, prefix: 'ds' });
  return signer.getSignedXml();
}
