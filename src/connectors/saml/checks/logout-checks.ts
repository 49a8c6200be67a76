import type { Profile } from '@node-saml/node-saml';
import type { Check } from './check.js';
import type { ReceivedNameId } from './response-context.js';
import type { TenantStore } from '../../../store/tenant-store.js';
import type { SamlConnectionRecord } from '../../../store/repositories/saml-connection-repository.js';
import type { SamlMessageRecord } from '../../../store/repositories/saml-message-repository.js';
import type { SamlSpPrivateKeys } from '../saml-connection-schema.js';
import type { SamlSpUrls } from '../saml-sp-urls.js';
import type { LogoutRequestState } from '../saml-state.js';
import { refuse } from '../saml-errors.js';
import { assertNoCommentsOrInstructions, attr, child, children, containsDoctype, isElement, parseInstant, parseXml, text } from '../saml-xml.js';
import { NS, STATUS_SUCCESS } from '../saml-constants.js';
import { assertUniqueIds, decodeBase64Message } from './message-checks.js';
import { checkIssuer } from './response-checks.js';
import { decodeRedirectMessage, verifyRedirectSignature } from '../saml-redirect-binding.js';
import { checkSignatureShape, envelopedSignatureOf, idOf, verifyEnvelopedSignature } from '../xml-signature.js';
import { createNodeSaml } from '../node-saml-client.js';
import { translateNodeSamlError } from './library-check.js';

export interface LogoutCheckContext {
  connection: SamlConnectionRecord;
  keys: SamlSpPrivateKeys;
  urls: SamlSpUrls;
  store: TenantStore;
  now: number;
  skewMs: number;
  binding: 'redirect' | 'post';
  expected: 'LogoutRequest' | 'LogoutResponse';
  /** The SAMLRequest or SAMLResponse parameter (URL- or form-decoded). */
  encoded: string | undefined;
  relayState: string | undefined;
  /** The query string as received (Redirect binding: the signature covers its octets). */
  rawQuery: string;
  xml?: string;
  doc?: Document;
  /** The message as its signature covers it. */
  root?: Element;
  nameId?: ReceivedNameId;
  sessionIndexes?: string[];
  logoutRequest?: SamlMessageRecord<LogoutRequestState>;
  statusCode?: string;
}

const parameterOf = (ctx: LogoutCheckContext) => (ctx.expected === 'LogoutRequest' ? 'SAMLRequest' : 'SAMLResponse');

export const decodeLogout: Check<LogoutCheckContext> = {
  name: 'binding.decode',
  spec: '[SAMLBind] 3.4.4.1 (Redirect: DEFLATE then base64) and 3.5.4 (POST: base64)',
  run(ctx) {
    if (!ctx.encoded) refuse('saml.logout_invalid', `no ${parameterOf(ctx)}`);
    ctx.xml = ctx.binding === 'redirect' ? decodeRedirectMessage(ctx.encoded!) : decodeBase64Message(ctx.encoded!);
  },
};

export const logoutXml: Check<LogoutCheckContext> = {
  name: 'xml.no-doctype-well-formed-no-comments-unique-ids',
  spec: 'as for responses: no DTD, well-formed, no comments ([XMLDSig] 4.4.3.3), unique IDs ([SAMLCore] 1.3.4)',
  run(ctx) {
    if (containsDoctype(ctx.xml!)) refuse('saml.doctype_forbidden', 'the message contains <!DOCTYPE or <!ENTITY');
    ctx.doc = parseXml(ctx.xml!);
    assertNoCommentsOrInstructions(ctx.doc);
    assertUniqueIds(ctx.doc);
  },
};

export const logoutElement: Check<LogoutCheckContext> = {
  name: 'logout.element',
  spec: '[SAMLCore] 3.7.1 and 3.7.2: a LogoutRequest or LogoutResponse with Version 2.0, ID and IssueInstant',
  run(ctx) {
    const root = ctx.doc!.documentElement!;
    const name = root.localName;
    if (!isElement(root, NS.protocol, ctx.expected)) refuse('saml.logout_invalid', `expected ${ctx.expected}, received ${name}`);
    if (attr(root, 'Version') !== '2.0' || !attr(root, 'ID') || !attr(root, 'IssueInstant')) refuse('saml.logout_invalid', 'Version 2.0, ID or IssueInstant is missing');
    ctx.root = root;
  },
};

export const logoutSignature: Check<LogoutCheckContext> = {
  name: 'logout.signature',
  spec: '[SAMLProf] 4.4.4.1 and 4.4.4.2 (logout messages are signed), [SAMLBind] 3.4.4.1 (Redirect: query signature) and [SAMLCore] 5.4 (POST: enveloped signature), pinned certificates only',
  run(ctx) {
    const policy = { allowSha1: ctx.connection.settings.allowSha1 };
    const certificates = ctx.connection.idp.signingCertificates;
    if (ctx.binding === 'redirect') {
      verifyRedirectSignature(ctx.rawQuery, parameterOf(ctx), certificates, policy);
      return;
    }
    const signature = envelopedSignatureOf(ctx.root!);
    if (!signature) refuse('saml.signature_missing', `the ${ctx.expected} is not signed`);
    checkSignatureShape(signature!, policy);
    const signed = parseXml(verifyEnvelopedSignature(ctx.xml!, signature!, certificates, policy)).documentElement!;
    if (!isElement(signed, NS.protocol, ctx.expected) || idOf(signed) !== idOf(ctx.root!)) refuse('saml.signature_placement', 'the signed content is not the message received');
    ctx.root = signed;
  },
};

export const logoutDestination: Check<LogoutCheckContext> = {
  name: 'logout.destination',
  spec: '[SAMLBind] 3.4.5.2 and 3.5.5.2: a signed message names the endpoint it was sent to',
  run(ctx) {
    const destination = attr(ctx.root!, 'Destination');
    if (destination !== ctx.urls.slo) refuse('saml.destination_mismatch', `Destination is "${(destination ?? '(absent)').slice(0, 300)}", expected "${ctx.urls.slo}"`);
  },
};

export const logoutIssuer: Check<LogoutCheckContext> = {
  name: 'logout.issuer',
  spec: '[SAMLProf] 4.4.4.1 and 4.4.4.2: the Issuer is present and is the partner',
  run(ctx) {
    const issuers = children(ctx.root!, NS.assertion, 'Issuer');
    if (issuers.length !== 1) refuse('saml.issuer_mismatch', `${issuers.length} Issuer elements`);
    checkIssuer(issuers[0]!, ctx.connection.idp.entityId, ctx.expected);
  },
};

export const logoutRequestContent: Check<LogoutCheckContext> = {
  name: 'logout.request',
  spec: '[SAMLCore] 3.7.1: NotOnOrAfter (if any) has not passed; the NameID and the SessionIndex values name the session',
  run(ctx) {
    if (ctx.expected !== 'LogoutRequest') return;
    const notOnOrAfter = parseInstant(attr(ctx.root!, 'NotOnOrAfter'));
    if (notOnOrAfter !== undefined && (Number.isNaN(notOnOrAfter) || ctx.now - ctx.skewMs >= notOnOrAfter)) refuse('saml.logout_invalid', 'the LogoutRequest has expired');
    const nameId = child(ctx.root!, NS.assertion, 'NameID');
    if (!nameId || !text(nameId)) refuse('saml.subject_invalid', 'the LogoutRequest has no NameID (EncryptedID is not supported)');
    ctx.nameId = { value: text(nameId)!, format: attr(nameId!, 'Format'), nameQualifier: attr(nameId!, 'NameQualifier'), spNameQualifier: attr(nameId!, 'SPNameQualifier') };
    ctx.sessionIndexes = children(ctx.root!, NS.protocol, 'SessionIndex').map((s) => text(s) ?? '').filter(Boolean);
  },
};

export const logoutInResponseTo: Check<LogoutCheckContext> = {
  name: 'logout.in-response-to',
  spec: '[SAMLCore] 3.2.2: InResponseTo names a LogoutRequest we sent, not yet answered',
  async run(ctx) {
    if (ctx.expected !== 'LogoutResponse') return;
    const id = attr(ctx.root!, 'InResponseTo');
    if (!id) refuse('saml.in_response_to_unknown', 'the LogoutResponse has no InResponseTo');
    const record = await ctx.store.saml.messages.findLive<LogoutRequestState>(id!, 'logout');
    if (!record || record.connectionId !== ctx.connection.id) refuse('saml.in_response_to_unknown', `no pending LogoutRequest "${id!.slice(0, 80)}"`);
    if (record!.consumedAt !== undefined) refuse('saml.in_response_to_used', `LogoutRequest "${id}" was already answered`);
    ctx.logoutRequest = record!;
  },
};

export const logoutStatus: Check<LogoutCheckContext> = {
  name: 'logout.status',
  spec: '[SAMLCore] 3.2.2.2 and 3.7.3.2: the partner reports Success (a second-level PartialLogout is recorded)',
  run(ctx) {
    if (ctx.expected !== 'LogoutResponse') return;
    const top = child(child(ctx.root!, NS.protocol, 'Status') ?? ctx.root!, NS.protocol, 'StatusCode');
    const value = top ? attr(top, 'Value') : undefined;
    if (value !== STATUS_SUCCESS) refuse('saml.status_not_success', `status ${value ?? '(absent)'}`);
    const second = top ? child(top, NS.protocol, 'StatusCode') : undefined;
    ctx.statusCode = (second && attr(second, 'Value')) ?? value;
  },
};

export const logoutNodeSamlAgrees: Check<LogoutCheckContext> = {
  name: 'library.node-saml',
  spec: 'a second, independent implementation (@node-saml/node-saml 5.1.0) must accept the same logout message',
  async run(ctx) {
    const saml = createNodeSaml({ connection: ctx.connection, keys: ctx.keys, urls: ctx.urls, wantResponseSigned: true });
    const parameter = parameterOf(ctx);
    try {
      let profile: Profile | null;
      if (ctx.binding === 'redirect') {
        const query = Object.fromEntries(new URLSearchParams(ctx.rawQuery));
        ({ profile } = await saml.validateRedirectAsync(query, ctx.rawQuery));
      } else if (parameter === 'SAMLRequest') {
        ({ profile } = await saml.validatePostRequestAsync({ SAMLRequest: ctx.encoded! }));
      } else {
        ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: ctx.encoded! }));
      }
      if (ctx.expected === 'LogoutRequest' && profile?.nameID !== ctx.nameId!.value) refuse('saml.library_refused', 'node-saml read a different NameID');
    } catch (error) {
      if ((error as Error).name === 'SamlCheckFailure') throw error;
      const { code, detail } = translateNodeSamlError(error);
      refuse(code === 'saml.library_refused' ? 'saml.logout_invalid' : code, detail);
    }
  },
};

export const logoutConsume: Check<LogoutCheckContext> = {
  name: 'logout.consume',
  spec: '[SAMLCore] 3.2.2: a request is answered once (atomic across server processes)',
  async run(ctx) {
    if (ctx.expected !== 'LogoutResponse') return;
    if (!(await ctx.store.saml.messages.consume(ctx.logoutRequest!.id, 'logout'))) refuse('saml.in_response_to_used', 'the LogoutRequest was answered meanwhile');
  },
};

/** Every check a logout message passes, in order. */
export const LOGOUT_CHECKS: ReadonlyArray<Check<LogoutCheckContext>> = [
  decodeLogout,
  logoutXml,
  logoutElement,
  logoutSignature,
  logoutDestination,
  logoutIssuer,
  logoutRequestContent,
  logoutInResponseTo,
  logoutStatus,
  logoutNodeSamlAgrees,
  logoutConsume,
];
