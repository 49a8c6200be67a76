import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse } from '../saml-errors.js';
import { attr, child, children, descendants, text } from '../saml-xml.js';
import { NAME_ID_FORMAT_ENTITY, NS, STATUS_SUCCESS } from '../saml-constants.js';
import { constantTimeEqual } from '../../../crypto/secrets.js';
import type { AuthnRequestState } from '../saml-state.js';

/** An Issuer element names the partner: its value and, when given, the entity Format. */
export function checkIssuer(issuer: Element, expected: string | undefined, where: string): void {
  const value = text(issuer);
  const format = attr(issuer, 'Format');
  if (format !== undefined && format !== NAME_ID_FORMAT_ENTITY) refuse('saml.issuer_mismatch', `the ${where} Issuer has Format ${format}`);
  if (!expected || value !== expected) refuse('saml.issuer_mismatch', `the ${where} Issuer is "${(value ?? '').slice(0, 200)}", expected "${expected ?? '(not configured)'}"`);
}

export const destination: Check<ResponseCheckContext> = {
  name: 'response.destination',
  spec: '[SAMLBind] 3.5.5.2 and [SAMLCore] 3.2.2: Destination names the endpoint the message was delivered to (required here, signed or not)',
  run(ctx) {
    const value = attr(ctx.response!, 'Destination');
    // node-saml does not check Destination (issues #405, #437): a response minted for another
    // tenant's ACS would otherwise be accepted whenever the audience matched.
    if (value !== ctx.urls.acs) refuse('saml.destination_mismatch', `Destination is "${(value ?? '(absent)').slice(0, 300)}", expected "${ctx.urls.acs}"`);
  },
};

export const responseIssuer: Check<ResponseCheckContext> = {
  name: 'response.issuer',
  spec: '[SAMLProf] 4.1.4.2: the Response Issuer, when present (required when signed or when the assertion is encrypted), is the identity provider',
  run(ctx) {
    const issuers = children(ctx.response!, NS.assertion, 'Issuer');
    if (issuers.length > 1) refuse('saml.issuer_mismatch', 'the Response has several Issuer elements');
    const signedOrEncrypted =
      children(ctx.response!, NS.dsig, 'Signature').length > 0 || children(ctx.response!, NS.assertion, 'EncryptedAssertion').length > 0;
    if (!issuers[0]) {
      if (signedOrEncrypted) refuse('saml.issuer_mismatch', 'a signed Response (or one with an encrypted assertion) must name its Issuer');
      return;
    }
    checkIssuer(issuers[0], ctx.connection.idp.entityId, 'Response');
  },
};

export const status: Check<ResponseCheckContext> = {
  name: 'response.status',
  spec: '[SAMLCore] 3.2.2.2 (top-level StatusCode Success) and [SAMLProf] 4.1.4.2 (an error Response MUST NOT carry assertions)',
  run(ctx) {
    const code = attr(child(child(ctx.response!, NS.protocol, 'Status') ?? ctx.response!, NS.protocol, 'StatusCode') ?? ctx.response!, 'Value');
    if (code === STATUS_SUCCESS) return;
    // node-saml reads the assertion before the status: an error Response that still carries a
    // valid assertion would be accepted. Refused here, whatever it carries.
    const carriesAssertion =
      descendants(ctx.response!, NS.assertion, 'Assertion').length + descendants(ctx.response!, NS.assertion, 'EncryptedAssertion').length > 0;
    refuse('saml.status_not_success', `status ${code ?? '(absent)'}${carriesAssertion ? ', carrying an assertion' : ''}`);
  },
};

export const inResponseTo: Check<ResponseCheckContext> = {
  name: 'response.in-response-to',
  spec: '[SAMLProf] 4.1.4.3 and 4.1.5: InResponseTo names an AuthnRequest we sent and has not been answered; without it the response is unsolicited',
  async run(ctx) {
    const id = attr(ctx.response!, 'InResponseTo');
    if (id === undefined) {
      if (!ctx.connection.settings.allowIdpInitiated) refuse('saml.unsolicited_response', 'the Response has no InResponseTo and IdP-initiated sign-in is off');
      ctx.unsolicited = true;
      return;
    }
    const request = await ctx.store.saml.messages.findLive<AuthnRequestState>(id, 'authn');
    if (!request || request.connectionId !== ctx.connection.id) refuse('saml.in_response_to_unknown', `no pending request "${id.slice(0, 80)}" for this connection`);
    if (request!.consumedAt !== undefined) refuse('saml.in_response_to_used', `request "${id.slice(0, 80)}" was already answered`);
    ctx.request = request!;
    ctx.unsolicited = false;
  },
};

export const relayState: Check<ResponseCheckContext> = {
  name: 'binding.relay-state',
  spec: '[SAMLBind] 3.5.3: the RelayState sent with the request comes back unchanged; it is bound to the stored request',
  run(ctx) {
    if (ctx.unsolicited) return; // an IdP's own RelayState is never used as a redirect target
    const expected = ctx.request!.payload.relayState;
    if (!ctx.relayState || !constantTimeEqual(ctx.relayState, expected)) refuse('saml.relay_state_mismatch', 'RelayState differs from the one sent with the request');
  },
};

export const singleAssertion: Check<ResponseCheckContext> = {
  name: 'response.single-assertion',
  spec: '[SAMLProf] 4.1.4.2 allows several assertions; exactly one, directly in the Response and nowhere else, is accepted (signature-wrapping defence)',
  run(ctx) {
    const direct = [...children(ctx.response!, NS.assertion, 'Assertion'), ...children(ctx.response!, NS.assertion, 'EncryptedAssertion')];
    const anywhere = descendants(ctx.doc!, NS.assertion, 'Assertion').length + descendants(ctx.doc!, NS.assertion, 'EncryptedAssertion').length;
    if (direct.length !== 1 || anywhere !== 1) {
      refuse('saml.assertion_count', `${direct.length} assertion(s) in the Response, ${anywhere} in the whole message (exactly one is accepted)`);
    }
  },
};
