import { SamlStatusError } from '@node-saml/node-saml';
import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse, type SamlRefusalCode } from '../saml-errors.js';
import { createNodeSaml } from '../node-saml-client.js';

/**
 * node-saml reports failures as plain Error messages. They are translated here, at the boundary,
 * narrowly: the message prefixes below are node-saml 5.1.0's own (lib/saml.js, lib/xml.js). Every
 * check node-saml makes has already been made by a named check before this one, so a refusal
 * here means the two implementations disagree; unmatched messages become `saml.library_refused`.
 */
// Order matters: the more specific "Invalid signature: multiple assertions" before "Invalid signature".
const NODE_SAML_MESSAGES: ReadonlyArray<[RegExp, SamlRefusalCode]> = [
  [/^Invalid signature: multiple assertions|^Missing SAML assertion/, 'saml.assertion_count'],
  [/^Invalid (document )?signature|^Invalid signature from encrypted assertion|^Too many signatures|^Invalid signature, too many transforms/, 'saml.signature_invalid'],
  [/^SAML assertion audience mismatch|^SAML assertion has no AudienceRestriction/, 'saml.audience_mismatch'],
  [/^No decryption key|^Invalid EncryptedAssertion content/, 'saml.decryption_failed'],
];

export function translateNodeSamlError(error: unknown): { code: SamlRefusalCode; detail: string } {
  if (error instanceof SamlStatusError) return { code: 'saml.status_not_success', detail: `node-saml: ${error.message}` };
  const message = error instanceof Error ? error.message : String(error);
  const match = NODE_SAML_MESSAGES.find(([pattern]) => pattern.test(message));
  return { code: match?.[1] ?? 'saml.library_refused', detail: `node-saml: ${message.slice(0, 300)}` };
}

export const nodeSamlAgrees: Check<ResponseCheckContext> = {
  name: 'library.node-saml',
  spec: 'a second, independent implementation (@node-saml/node-saml 5.1.0) must accept the same response and read the same subject',
  async run(ctx) {
    const saml = createNodeSaml({
      connection: ctx.connection,
      keys: ctx.keys,
      urls: ctx.urls,
      wantResponseSigned: Boolean(ctx.signedResponse),
      wantAssertionSigned: Boolean(ctx.assertionSigned),
    });
    let profile;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: ctx.samlResponse! }));
    } catch (error) {
      const { code, detail } = translateNodeSamlError(error);
      refuse(code, detail);
    }
    if (!profile || profile.nameID !== ctx.nameId!.value || profile.issuer !== ctx.connection.idp.entityId) {
      refuse('saml.library_refused', 'node-saml read a different subject or issuer from the same response');
    }
  },
};
