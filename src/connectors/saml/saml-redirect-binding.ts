import { inflateRawSync, constants as zlib } from 'node:zlib';
import { verify } from 'node:crypto';
import { refuse } from './saml-errors.js';
import { REDIRECT_SIG_ALGS, REDIRECT_SIG_ALGS_SHA1 } from './saml-constants.js';
import { MAX_MESSAGE_BYTES } from './checks/message-checks.js';
import type { SignaturePolicy } from './xml-signature.js';

/**
 * [SAMLBind] 3.4.4.1: a Redirect-binding message is DEFLATE-compressed, then base64-encoded. The
 * inflated size is capped (a few KB of DEFLATE data can inflate to gigabytes).
 */
export function decodeRedirectMessage(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) refuse('saml.message_malformed', 'the message is not base64');
  try {
    return inflateRawSync(Buffer.from(compact, 'base64'), { maxOutputLength: MAX_MESSAGE_BYTES }).toString('utf8');
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || (error as { errno?: number }).errno === zlib.Z_BUF_ERROR;
    return refuse('saml.message_malformed', tooLarge ? `the message inflates beyond ${MAX_MESSAGE_BYTES} bytes` : 'the message is not DEFLATE data');
  }
}

/** The query parameters as they were sent, still URL-encoded (the signature covers those octets). */
export function rawQueryParameters(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    if (out.has(name)) refuse('saml.message_malformed', `the query repeats ${name}`);
    out.set(name, eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/**
 * [SAMLBind] 3.4.4.1: the Redirect binding signs `SAMLRequest=..&RelayState=..&SigAlg=..` (or
 * SAMLResponse) over the URL-encoded values exactly as they appear in the query. A signature is
 * required ([SAMLProf] 4.4.4.1 and 4.4.4.2: logout messages are authenticated), and verified with
 * the partner's pinned certificates only.
 */
export function verifyRedirectSignature(rawQuery: string, messageParameter: 'SAMLRequest' | 'SAMLResponse', certificates: string[], policy: SignaturePolicy): void {
  const raw = rawQueryParameters(rawQuery);
  const signature = raw.get('Signature');
  const sigAlgRaw = raw.get('SigAlg');
  if (!signature || !sigAlgRaw) refuse('saml.signature_missing', 'the Redirect-binding message has no Signature/SigAlg');
  const sigAlg = decodeURIComponent(sigAlgRaw!);
  const hash = REDIRECT_SIG_ALGS[sigAlg] ?? (policy.allowSha1 ? REDIRECT_SIG_ALGS_SHA1[sigAlg] : undefined);
  if (!hash) refuse(REDIRECT_SIG_ALGS_SHA1[sigAlg] ? 'saml.weak_algorithm' : 'saml.algorithm_not_allowed', `SigAlg ${sigAlg}`);
  const relayState = raw.get('RelayState');
  const signed = `${messageParameter}=${raw.get(messageParameter) ?? ''}${relayState !== undefined ? `&RelayState=${relayState}` : ''}&SigAlg=${sigAlgRaw}`;
  const signatureBytes = Buffer.from(decodeURIComponent(signature!), 'base64');
  const ok = certificates.some((certificate) => {
    try {
      return verify(hash!, Buffer.from(signed, 'utf8'), certificate, signatureBytes);
    } catch {
      return false;
    }
  });
  if (!ok) refuse('saml.signature_invalid', 'the Redirect-binding signature does not verify with the pinned certificates');
}
