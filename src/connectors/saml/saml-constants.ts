/** URIs of SAML 2.0, XML Signature and XML Encryption that Gatehouse reads or writes. */

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

/** [SAMLBind] sections 3.4 and 3.5. */
export const BINDINGS = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;
export type BindingName = keyof typeof BINDINGS;

export function bindingName(uri: string): BindingName | undefined {
  return (Object.keys(BINDINGS) as BindingName[]).find((k) => BINDINGS[k] === uri);
}

/** [SAMLCore] section 8.3: name identifier formats. */
export const NAME_ID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;
export type NameIdFormatName = keyof typeof NAME_ID_FORMATS;

export function nameIdFormatName(uri: string | undefined): NameIdFormatName | undefined {
  if (!uri) return undefined;
  return (Object.keys(NAME_ID_FORMATS) as NameIdFormatName[]).find((k) => NAME_ID_FORMATS[k] === uri);
}

/** [SAMLCore] section 3.2.2.2. */
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
/** [SAMLCore] section 3.2.2.2: the request could not be performed due to an error on the part of the requester. */
export const STATUS_REQUESTER = 'urn:oasis:names:tc:SAML:2.0:status:Requester';
/** [SAMLCore] section 3.2.2.2. */
export const STATUS_PARTIAL_LOGOUT = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';

/** [SAMLProf] section 3.3 and 4.1.4.2: bearer subject confirmation. */
export const CM_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** [SAMLCore] section 8.3.6: the Format of an entity identifier. */
export const NAME_ID_FORMAT_ENTITY = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';

/**
 * Signature and digest algorithms accepted on SAML messages ([XMLDSig] section 6, RFC 6931).
 * SHA-1 is broken for collision resistance (SHAttered, 2017) and is accepted only where a
 * connection opts in with `allowSha1`.
 */
export const SIGNATURE_ALGORITHMS_STRONG = [
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
] as const;
export const SIGNATURE_ALGORITHMS_SHA1 = ['http://www.w3.org/2000/09/xmldsig#rsa-sha1'] as const;
export const DIGEST_ALGORITHMS_STRONG = ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512'] as const;
export const DIGEST_ALGORITHMS_SHA1 = ['http://www.w3.org/2000/09/xmldsig#sha1'] as const;

/** [SAMLCore] 5.4.3 and 5.4.4: exclusive canonicalization, and only the enveloped-signature transform besides. */
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const ALLOWED_TRANSFORMS = [ENVELOPED_SIGNATURE, EXC_C14N] as const;

/**
 * XML Encryption algorithms accepted for encrypted assertions. RSA PKCS#1 v1.5 key transport
 * (Bleichenbacher) and Triple DES are refused ([XMLEnc1] section 5.5.1 note on RSA v1.5).
 */
export const DATA_ENCRYPTION_ALGORITHMS = [
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
] as const;
/** RSA-OAEP key transport; XML Encryption 1.1's `xmlenc11#rsa-oaep` is not supported by xml-encryption 3. */
export const KEY_TRANSPORT_ALGORITHMS = ['http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p'] as const;

/** Redirect binding signature algorithm identifiers ([SAMLBind] 3.4.4.1, SigAlg). */
export const REDIRECT_SIG_ALGS: Record<string, string> = {
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'RSA-SHA256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'RSA-SHA512',
};
export const REDIRECT_SIG_ALGS_SHA1: Record<string, string> = { 'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 'RSA-SHA1' };

/**
 * AuthnContextClassRefs that mean "a second factor was used" in common IdPs: REFEDS MFA, AD FS /
 * Entra ID, and the SAML 2.0 mobile two-factor contexts ([SAMLAuthnCxt] section 3.4). A tenant
 * trusts a partner's MFA only when its connection says so (`trustPartnerMfa`).
 */
export const DEFAULT_MFA_CLASS_REFS = [
  'https://refeds.org/profile/mfa',
  'http://schemas.microsoft.com/claims/multipleauthn',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
] as const;

/** Password-based AuthnContextClassRefs ([SAMLAuthnCxt] 3.4.16, 3.4.17): `amr` gets `pwd`. */
export const PASSWORD_CLASS_REFS = [
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Password',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
] as const;
