import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { randomBytes, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';

/**
 * A SAML identity provider inside the test suite: its own throwaway RSA key and certificate made
 * by openssl at test time, real XML signatures (xml-crypto) and real XML encryption
 * (xml-encryption). Nothing of Gatehouse's code is used to build its messages, so the tests check
 * Gatehouse against an independent implementation, not against itself.
 */

export const SAML = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  bearer: 'urn:oasis:names:tc:SAML:2.0:cm:bearer',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  passwordProtectedTransport: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

export interface KeyPair {
  key: string;
  cert: string;
}

/** A throwaway RSA-2048 key and self-signed certificate, made by openssl. */
export function opensslKeyPair(commonName: string): KeyPair {
  const dir = mkdtempSync(path.join(tmpdir(), 'saml-idp-key-'));
  try {
    const result = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-sha256', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', `/CN=${commonName}`],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr || result.error?.message}`);
    return { key: readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const samlId = () => `_${randomBytes(16).toString('hex')}`;

export interface AssertionOptions {
  now: number;
  /** Response-level */
  responseId?: string;
  destination?: string | null;
  inResponseTo?: string | null;
  responseIssuer?: string | null;
  statusCode?: string;
  /** Assertion-level */
  assertionId?: string;
  issuer?: string;
  nameId: string;
  nameIdFormat?: string;
  recipient?: string;
  subjectInResponseTo?: string | null;
  subjectNotOnOrAfter?: number;
  notBefore?: number | null;
  notOnOrAfter?: number | null;
  audience?: string;
  sessionIndex?: string;
  classRef?: string;
  attributes?: Record<string, string[]>;
}

/** The Assertion element (it declares its own namespaces, so it stands alone once encrypted). */
export function assertionXml(o: AssertionOptions & { issuer: string; recipient: string; audience: string }): string {
  const id = o.assertionId ?? samlId();
  const subjectIrt = o.subjectInResponseTo === undefined ? o.inResponseTo : o.subjectInResponseTo;
  const attrs = Object.entries(o.attributes ?? {})
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  const notBefore = o.notBefore === undefined ? o.now - 5_000 : o.notBefore;
  const notOnOrAfter = o.notOnOrAfter === undefined ? o.now + 300_000 : o.notOnOrAfter;
  return (
    `<saml:Assertion xmlns:saml="${SAML.assertion}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${id}" Version="2.0" IssueInstant="${iso(o.now)}">` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${o.nameIdFormat ?? SAML.persistent}">${esc(o.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${SAML.bearer}"><saml:SubjectConfirmationData NotOnOrAfter="${iso(o.subjectNotOnOrAfter ?? o.now + 300_000)}" Recipient="${esc(o.recipient)}"${subjectIrt ? ` InResponseTo="${subjectIrt}"` : ''}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions${notBefore !== null ? ` NotBefore="${iso(notBefore)}"` : ''}${notOnOrAfter !== null ? ` NotOnOrAfter="${iso(notOnOrAfter)}"` : ''}><saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(o.now - 1000)}" SessionIndex="${o.sessionIndex ?? samlId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${o.classRef ?? SAML.passwordProtectedTransport}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`
  );
}

/** A Response around an assertion (or an EncryptedAssertion, or nothing). */
export function responseXml(o: { now: number; id?: string; destination?: string | null; inResponseTo?: string | null; issuer?: string | null; statusCode?: string; extensions?: string; body: string }): string {
  return (
    `<samlp:Response xmlns:samlp="${SAML.protocol}" xmlns:saml="${SAML.assertion}" ID="${o.id ?? samlId()}" Version="2.0" IssueInstant="${iso(o.now)}"` +
    `${o.destination ? ` Destination="${esc(o.destination)}"` : ''}${o.inResponseTo ? ` InResponseTo="${o.inResponseTo}"` : ''}>` +
    `${o.issuer ? `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>` : ''}` +
    `${o.extensions !== undefined ? `<samlp:Extensions>${o.extensions}</samlp:Extensions>` : ''}` +
    `<samlp:Status><samlp:StatusCode Value="${o.statusCode ?? SAML.success}"/></samlp:Status>` +
    o.body +
    `</samlp:Response>`
  );
}

export interface SignOptions {
  key: string;
  /** The certificate put in KeyInfo (an attacker puts its own). */
  cert: string;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
}

/** Signs the element `xpath` selects (enveloped, after its Issuer), as an IdP does. */
export function signElement(xml: string, xpath: string, o: SignOptions): string {
  const signer = new SignedXml({ privateKey: o.key, publicCert: o.cert, signatureAlgorithm: o.signatureAlgorithm ?? SAML.rsaSha256, canonicalizationAlgorithm: SAML.excC14n });
  signer.addReference({ xpath, transforms: [SAML.enveloped, SAML.excC14n], digestAlgorithm: o.digestAlgorithm ?? SAML.sha256 });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

export const RESPONSE_XPATH = "/*[local-name(.)='Response']";
export const ASSERTION_XPATH = "//*[local-name(.)='Assertion']";

const encrypt = promisify(xmlenc.encrypt) as (content: string, options: xmlenc.EncryptOptions) => Promise<string>;

/** Encrypts an Assertion to the SP's encryption certificate, as an EncryptedAssertion element. */
export async function encryptAssertion(assertion: string, spEncryptionCert: string, options: { keyEncryptionAlgorithm?: xmlenc.KeyEncryptionAlgorithm } = {}): Promise<string> {
  const encrypted = await encrypt(assertion, {
    rsa_pub: spEncryptionCert,
    pem: spEncryptionCert,
    encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
    keyEncryptionAlgorithm: options.keyEncryptionAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    warnInsecureAlgorithm: false,
  });
  return `<saml:EncryptedAssertion xmlns:saml="${SAML.assertion}">${encrypted}</saml:EncryptedAssertion>`;
}

export const parse = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');
export const serialize = (node: Node) => new XMLSerializer().serializeToString(node);

/** The first element with this local name, at any depth. */
export function find(doc: Document | Element, localName: string): Element {
  const found = (doc as Element).getElementsByTagNameNS('*', localName)[0];
  if (!found) throw new Error(`no <${localName}>`);
  return found as Element;
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export interface TestIdp {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  keys: KeyPair;
  metadataXml(extraCerts?: string[]): string;
}

export function createTestIdp(options: { entityId?: string; keys?: KeyPair } = {}): TestIdp {
  const entityId = options.entityId ?? 'https://idp.partner.example/saml';
  const keys = options.keys ?? opensslKeyPair('test-idp');
  return {
    entityId,
    ssoUrl: 'https://idp.partner.example/sso',
    sloUrl: 'https://idp.partner.example/slo',
    keys,
    metadataXml(extraCerts = []) {
      const keyDescriptors = [keys.cert, ...extraCerts]
        .map((c) => `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
        .join('');
      return (
        `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(entityId)}">` +
        `<md:IDPSSODescriptor protocolSupportEnumeration="${SAML.protocol}">${keyDescriptors}` +
        `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.sloUrl}"/>` +
        `<md:NameIDFormat>${SAML.persistent}</md:NameIDFormat>` +
        `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>` +
        `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${this.ssoUrl}"/>` +
        `</md:IDPSSODescriptor></md:EntityDescriptor>`
      );
    },
  };
}

/** What the IdP reads from an HTTP-Redirect AuthnRequest (or LogoutRequest), with the SP's query signature checked. */
export function readRedirectMessage(url: string, spSigningCert?: string): { xml: Document; id: string; relayState: string | undefined; signatureValid: boolean | undefined } {
  const u = new URL(url);
  const param = u.searchParams.has('SAMLRequest') ? 'SAMLRequest' : 'SAMLResponse';
  const xml = parse(inflateRawSync(Buffer.from(u.searchParams.get(param)!, 'base64')).toString('utf8'));
  let signatureValid: boolean | undefined;
  if (spSigningCert && u.searchParams.has('Signature')) {
    const raw = new Map(u.search.slice(1).split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
    const signed = `${param}=${raw.get(param)}${raw.has('RelayState') ? `&RelayState=${raw.get('RelayState')}` : ''}&SigAlg=${raw.get('SigAlg')}`;
    signatureValid = verify('RSA-SHA256', Buffer.from(signed), spSigningCert, Buffer.from(decodeURIComponent(raw.get('Signature')!), 'base64'));
  }
  return { xml, id: xml.documentElement!.getAttribute('ID')!, relayState: u.searchParams.get('RelayState') ?? undefined, signatureValid };
}

/** A LogoutRequest from the IdP ([SAMLCore] 3.7.1). */
export function logoutRequestXml(o: { now: number; id?: string; destination: string; issuer: string; nameId: string; nameIdFormat?: string; sessionIndex?: string }): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="${SAML.protocol}" xmlns:saml="${SAML.assertion}" ID="${o.id ?? samlId()}" Version="2.0" IssueInstant="${iso(o.now)}" Destination="${esc(o.destination)}" NotOnOrAfter="${iso(o.now + 300_000)}">` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer><saml:NameID Format="${o.nameIdFormat ?? SAML.persistent}">${esc(o.nameId)}</saml:NameID>` +
    `${o.sessionIndex ? `<samlp:SessionIndex>${esc(o.sessionIndex)}</samlp:SessionIndex>` : ''}</samlp:LogoutRequest>`
  );
}

/** A LogoutResponse from the IdP ([SAMLCore] 3.7.2). */
export function logoutResponseXml(o: { now: number; destination: string; issuer: string; inResponseTo: string; status?: string }): string {
  return (
    `<samlp:LogoutResponse xmlns:samlp="${SAML.protocol}" xmlns:saml="${SAML.assertion}" ID="${samlId()}" Version="2.0" IssueInstant="${iso(o.now)}" Destination="${esc(o.destination)}" InResponseTo="${o.inResponseTo}">` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${o.status ?? SAML.success}"/></samlp:Status></samlp:LogoutResponse>`
  );
}

/** The HTTP-Redirect binding ([SAMLBind] 3.4.4.1): DEFLATE, base64, and a query signature when keys are given. */
export function redirectBindingUrl(endpoint: string, param: 'SAMLRequest' | 'SAMLResponse', xml: string, options: { relayState?: string; keys?: KeyPair; sigAlg?: string } = {}): string {
  const parts = [`${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`];
  if (options.relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(options.relayState)}`);
  if (options.keys) {
    const sigAlg = options.sigAlg ?? SAML.rsaSha256;
    parts.push(`SigAlg=${encodeURIComponent(sigAlg)}`);
    const hash = sigAlg === SAML.rsaSha1 ? 'RSA-SHA1' : 'RSA-SHA256';
    parts.push(`Signature=${encodeURIComponent(sign(hash, Buffer.from(parts.join('&')), options.keys.key).toString('base64'))}`);
  }
  return `${endpoint}?${parts.join('&')}`;
}

/** Signs a protocol message (root element) for the HTTP-POST binding. */
export const signRoot = (xml: string, keys: KeyPair) => signElement(xml, '/*', keys);
