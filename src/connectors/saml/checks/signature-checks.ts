import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse } from '../saml-errors.js';
import { assertNoCommentsOrInstructions, children, descendants, isElement, parseXml } from '../saml-xml.js';
import { NS } from '../saml-constants.js';
import { checkSignatureShape, envelopedSignatureOf, idOf, verifyEnvelopedSignature, type SignaturePolicy } from '../xml-signature.js';
import { decryptAssertion } from '../xml-decryption.js';
import { assertUniqueIds } from './message-checks.js';

const policyOf = (ctx: ResponseCheckContext): SignaturePolicy => ({ allowSha1: ctx.connection.settings.allowSha1 });

/** The single Assertion or EncryptedAssertion directly under a Response. */
function carrierOf(response: Element): Element {
  return [...children(response, NS.assertion, 'Assertion'), ...children(response, NS.assertion, 'EncryptedAssertion')][0]!;
}

/**
 * Signatures may sit only where SAML puts them: enveloped in the Response or in the Assertion
 * ([SAMLCore] 5.4.1). One anywhere else (in Extensions, in an Object, in an Advice) is the
 * signature of some other, wrapped element: refused.
 */
function checkSignaturesIn(root: Element | Document, allowedParents: Element[], policy: SignaturePolicy): void {
  for (const signature of descendants(root, NS.dsig, 'Signature')) {
    const parent = signature.parentNode as Element;
    if (!allowedParents.includes(parent)) refuse('saml.signature_placement', `a signature inside <${parent.localName}> (only the Response and the Assertion may be signed)`);
    checkSignatureShape(signature, policy);
  }
}

export const signaturePlacement: Check<ResponseCheckContext> = {
  name: 'signature.placement-and-algorithms',
  spec: '[SAMLCore] 5.4.1-5.4.4 (enveloped, one same-document reference to the parent ID, exclusive c14n, no other transforms) and [XMLDSig] 6 (SHA-256 or stronger; SHA-1 only by opt-in)',
  run(ctx) {
    const response = ctx.response!;
    const assertion = children(response, NS.assertion, 'Assertion')[0];
    checkSignaturesIn(ctx.doc!, assertion ? [response, assertion] : [response], policyOf(ctx));
    envelopedSignatureOf(response);
    if (assertion) envelopedSignatureOf(assertion);
  },
};

export const responseSignature: Check<ResponseCheckContext> = {
  name: 'signature.response',
  spec: '[XMLDSig] 3.2 core validation with the partner\'s pinned certificates only ([SAMLCore] 5.4.5: KeyInfo is never trusted); the signed bytes become the Response used',
  run(ctx) {
    const signature = envelopedSignatureOf(ctx.response!);
    if (!signature) {
      ctx.assertionCarrier = carrierOf(ctx.response!);
      return;
    }
    const signedXml = verifyEnvelopedSignature(ctx.xml!, signature, ctx.connection.idp.signingCertificates, policyOf(ctx));
    const signed = parseXml(signedXml).documentElement!;
    if (!isElement(signed, NS.protocol, 'Response') || idOf(signed) !== idOf(ctx.response!)) {
      refuse('saml.signature_placement', 'the signed content is not the Response that was received');
    }
    ctx.signedResponse = signed;
    ctx.assertionCarrier = carrierOf(signed);
  },
};

export const decryptAssertionCheck: Check<ResponseCheckContext> = {
  name: 'assertion.decrypt',
  spec: '[SAMLCore] 2.3.4 and 6.1 with [XMLEnc] 4.2: an EncryptedAssertion is decrypted with the connection\'s own key (AES-GCM/CBC, RSA-OAEP)',
  async run(ctx) {
    const carrier = ctx.assertionCarrier!;
    if (!isElement(carrier, NS.assertion, 'EncryptedAssertion')) {
      if (ctx.connection.settings.requireEncryptedAssertions) refuse('saml.assertion_not_encrypted', 'the assertion arrived in clear');
      ctx.encrypted = false;
      // Its own signature, if any, is verified against the message as received.
      ctx.assertionSourceText = ctx.xml!;
      ctx.assertionCandidate = children(ctx.response!, NS.assertion, 'Assertion')[0]!;
      return;
    }
    const decrypted = await decryptAssertion(carrier, ctx.keys.encryption);
    const doc = parseXml(decrypted);
    assertNoCommentsOrInstructions(doc);
    assertUniqueIds(doc);
    const assertion = doc.documentElement!;
    const name = assertion.localName;
    if (!isElement(assertion, NS.assertion, 'Assertion')) refuse('saml.decryption_failed', `the EncryptedAssertion holds <${name}>, not an Assertion`);
    checkSignaturesIn(doc, [assertion], policyOf(ctx));
    envelopedSignatureOf(assertion);
    ctx.encrypted = true;
    ctx.assertionSourceText = decrypted;
    ctx.assertionCandidate = assertion;
  },
};

export const assertionSignature: Check<ResponseCheckContext> = {
  name: 'signature.assertion',
  spec: '[XMLDSig] 3.2 core validation of the Assertion\'s own signature with the pinned certificates; the signed bytes become the Assertion used',
  run(ctx) {
    const candidate = ctx.assertionCandidate!;
    const signature = envelopedSignatureOf(candidate);
    if (!signature) {
      ctx.assertionSigned = false;
      // Unsigned itself: usable only as part of the signed Response (checked next), read from its bytes.
      if (ctx.signedResponse) {
        ctx.assertion = ctx.encrypted ? candidate : ctx.assertionCarrier!;
      }
      return;
    }
    const signedXml = verifyEnvelopedSignature(ctx.assertionSourceText!, signature, ctx.connection.idp.signingCertificates, policyOf(ctx));
    const signed = parseXml(signedXml).documentElement!;
    if (!isElement(signed, NS.assertion, 'Assertion') || idOf(signed) !== idOf(candidate)) {
      refuse('saml.signature_placement', 'the signed content is not the Assertion that was received');
    }
    ctx.assertionSigned = true;
    ctx.assertion = signed;
  },
};

export const signatureRequired: Check<ResponseCheckContext> = {
  name: 'signature.required',
  spec: '[SAMLProf] 4.1.4.5: with the HTTP-POST binding each assertion MUST be protected by a signature, on the Assertion or on the Response',
  run(ctx) {
    if (!ctx.signedResponse && !ctx.assertionSigned) refuse('saml.signature_missing', 'neither the Response nor the Assertion is signed');
    if (ctx.connection.settings.requireSignedAssertions && !ctx.assertionSigned) {
      refuse('saml.signature_missing', 'the connection requires the Assertion itself to be signed');
    }
    if (!ctx.assertion) refuse('saml.signature_missing', 'no signed assertion');
    ctx.assertionId = idOf(ctx.assertion!);
  },
};
