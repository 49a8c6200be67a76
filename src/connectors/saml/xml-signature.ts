import { SignedXml } from 'xml-crypto';
import { refuse } from './saml-errors.js';
import { attr, child, children } from './saml-xml.js';
import {
  ALLOWED_TRANSFORMS,
  DIGEST_ALGORITHMS_SHA1,
  DIGEST_ALGORITHMS_STRONG,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  NS,
  SIGNATURE_ALGORITHMS_SHA1,
  SIGNATURE_ALGORITHMS_STRONG,
} from './saml-constants.js';

export interface SignaturePolicy {
  allowSha1: boolean;
}

/** The `ds:Signature` directly under `parent`, if any; more than one is refused. */
export function envelopedSignatureOf(parent: Element): Element | undefined {
  const signatures = children(parent, NS.dsig, 'Signature');
  if (signatures.length > 1) refuse('saml.signature_placement', `<${parent.localName}> carries ${signatures.length} signatures`);
  return signatures[0];
}

/** The element's ID attribute ([SAMLCore] 1.3.4: SAML elements name it `ID`). */
export function idOf(element: Element): string | undefined {
  return attr(element, 'ID');
}

/**
 * The shape of one enveloped signature, before any cryptography:
 * - [SAMLCore] 5.4.1 and 5.4.2: an enveloped signature with exactly one `<ds:Reference>`, whose
 *   URI is `#` + the ID of the element that contains the signature (so the signed element is the
 *   element the signature sits in, and nothing else);
 * - [SAMLCore] 5.4.3 and 5.4.4: exclusive canonicalization, and no transform besides the
 *   enveloped-signature transform and exclusive canonicalization (XPath or XSLT transforms can
 *   make a signature cover something other than what is read);
 * - [XMLDSig] 6.2 and 6.4: the signature and digest algorithms, SHA-256 or stronger unless the
 *   connection opts in to SHA-1.
 */
export function checkSignatureShape(signature: Element, policy: SignaturePolicy): void {
  const parent = signature.parentNode as Element;
  const parentId = idOf(parent);
  if (!parentId) refuse('saml.signature_placement', `the signed <${parent.localName}> has no ID`);
  const signedInfos = children(signature, NS.dsig, 'SignedInfo');
  if (signedInfos.length !== 1) refuse('saml.signature_placement', `a signature has ${signedInfos.length} SignedInfo elements`);
  const signedInfo = signedInfos[0]!;
  const c14n = attr(child(signedInfo, NS.dsig, 'CanonicalizationMethod') ?? signedInfo, 'Algorithm');
  if (c14n !== EXC_C14N) refuse('saml.algorithm_not_allowed', `canonicalization ${c14n ?? '(none)'} (only ${EXC_C14N})`);
  checkAlgorithm('signature', attr(child(signedInfo, NS.dsig, 'SignatureMethod') ?? signedInfo, 'Algorithm'), SIGNATURE_ALGORITHMS_STRONG, SIGNATURE_ALGORITHMS_SHA1, policy);
  const references = children(signedInfo, NS.dsig, 'Reference');
  if (references.length !== 1) refuse('saml.signature_placement', `a signature has ${references.length} references (exactly one is allowed)`);
  const reference = references[0]!;
  const uri = attr(reference, 'URI');
  if (uri !== `#${parentId}`) refuse('saml.signature_placement', `the signature in <${parent.localName} ID="${parentId}"> references "${uri ?? ''}"`);
  const transforms = children(child(reference, NS.dsig, 'Transforms') ?? reference, NS.dsig, 'Transform').map((t) => attr(t, 'Algorithm') ?? '');
  if (transforms.length > 2 || transforms.some((t) => !(ALLOWED_TRANSFORMS as readonly string[]).includes(t))) {
    refuse('saml.algorithm_not_allowed', `transforms ${transforms.join(', ') || '(none)'} (allowed: enveloped signature, exclusive canonicalization)`);
  }
  if (!transforms.includes(ENVELOPED_SIGNATURE)) refuse('saml.signature_placement', 'the signature is not enveloped (no enveloped-signature transform)');
  checkAlgorithm('digest', attr(child(reference, NS.dsig, 'DigestMethod') ?? reference, 'Algorithm'), DIGEST_ALGORITHMS_STRONG, DIGEST_ALGORITHMS_SHA1, policy);
}

function checkAlgorithm(kind: string, uri: string | undefined, strong: readonly string[], sha1: readonly string[], policy: SignaturePolicy): void {
  if (uri && strong.includes(uri)) return;
  if (uri && sha1.includes(uri)) {
    if (policy.allowSha1) return;
    refuse('saml.weak_algorithm', `${kind} algorithm ${uri} (SHA-1) and the connection does not allow SHA-1`);
  }
  refuse('saml.algorithm_not_allowed', `${kind} algorithm ${uri ?? '(none)'}`);
}

/**
 * Verifies an enveloped signature against the partner's pinned certificates only: the
 * `<ds:KeyInfo>` of the message is never used to find a key ([SAMLCore] 5.4.5 leaves KeyInfo to
 * the sender; trusting it would let anyone sign with their own key). Returns the signed content
 * as the signature covers it (canonical XML of the referenced element, enveloped signature
 * removed): callers read the assertion from these bytes, never from the surrounding document,
 * so content outside the signature can never be mistaken for signed content.
 */
export function verifyEnvelopedSignature(documentText: string, signature: Element, certificates: string[], policy: SignaturePolicy): string {
  // We are the XML processor: line endings are normalised as a parser would (XML 1.0, 2.11).
  const normalized = documentText.replace(/\r\n?/g, '\n');
  for (const certificate of certificates) {
    const verifier = new SignedXml({ publicCert: certificate, getCertFromKeyInfo: () => null });
    if (!policy.allowSha1) {
      // Defence in depth behind checkSignatureShape: the library cannot use SHA-1 either.
      for (const uri of SIGNATURE_ALGORITHMS_SHA1) delete (verifier.SignatureAlgorithms as Record<string, unknown>)[uri];
      for (const uri of DIGEST_ALGORITHMS_SHA1) delete (verifier.HashAlgorithms as Record<string, unknown>)[uri];
    }
    verifier.loadSignature(signature);
    let valid = false;
    try {
      valid = verifier.checkSignature(normalized);
    } catch {
      valid = false; // a wrong key throws "invalid signature"; try the next pinned certificate
    }
    if (!valid) continue;
    const signed = verifier.getSignedReferences();
    if (signed.length !== 1) refuse('saml.signature_placement', `the signature covers ${signed.length} references`);
    return signed[0]!;
  }
  return refuse('saml.signature_invalid', `the signature of <${(signature.parentNode as Element).localName}> does not verify with any of the ${certificates.length} pinned certificate(s)`);
}
