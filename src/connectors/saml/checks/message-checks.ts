import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse } from '../saml-errors.js';
import { allElements, assertNoCommentsOrInstructions, attr, containsDoctype, isElement, parseXml } from '../saml-xml.js';
import { NS } from '../saml-constants.js';

/**
 * The largest SAML Response accepted, decoded. Real responses with many attributes and an
 * encrypted assertion stay under 50 KB; 256 KB leaves room and bounds parsing work.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Strict base64 (whitespace allowed, as IdPs wrap lines); anything else is refused. */
export function decodeBase64Message(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!compact || compact.length % 4 !== 0 || !BASE64.test(compact)) refuse('saml.message_malformed', 'the message is not base64');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > MAX_MESSAGE_BYTES) refuse('saml.message_malformed', `the message is ${bytes.length} bytes (at most ${MAX_MESSAGE_BYTES})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return refuse('saml.message_malformed', 'the message is not UTF-8');
  }
}

const ID_NAMES = new Set(['ID', 'Id', 'id']);

/**
 * IDs must be unique in the document ([SAMLCore] 1.3.4; [XMLDSig] 4.4.3.3 resolves `#id`
 * references by ID). Two elements with the same ID are how signature-wrapping attacks make the
 * verifier and the reader look at different elements. `ID`, `Id` and `id` are all counted, as the
 * signature library resolves all three.
 */
export function assertUniqueIds(root: Node): void {
  const seen = new Set<string>();
  for (const element of allElements(root)) {
    const attributes = element.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes.item(i)!;
      // By local name, whatever the prefix: the signature library resolves `foo:ID` too.
      if (!ID_NAMES.has(a.localName ?? a.name)) continue;
      if (seen.has(a.value)) refuse('saml.duplicate_id', `the ID "${a.value.slice(0, 80)}" appears more than once`);
      seen.add(a.value);
    }
  }
}

export const decodePostForm: Check<ResponseCheckContext> = {
  name: 'binding.post-form',
  spec: '[SAMLBind] 3.5.4: the SAMLResponse form field carries the base64-encoded message',
  run(ctx) {
    if (!ctx.samlResponse) refuse('saml.response_missing', 'the form has no SAMLResponse field');
    ctx.xml = decodeBase64Message(ctx.samlResponse!);
  },
};

export const noDoctype: Check<ResponseCheckContext> = {
  name: 'xml.no-doctype',
  spec: 'SAML messages are defined by XML Schema only; SOAP 1.1 section 3 forbids DTDs; a DTD is the entry for entity expansion and XXE',
  run(ctx) {
    if (containsDoctype(ctx.xml!)) refuse('saml.doctype_forbidden', 'the message contains <!DOCTYPE or <!ENTITY');
  },
};

export const wellFormed: Check<ResponseCheckContext> = {
  name: 'xml.well-formed',
  spec: 'XML 1.0 section 2.1: a well-formed document with one root element',
  run(ctx) {
    ctx.doc = parseXml(ctx.xml!);
  },
};

export const noComments: Check<ResponseCheckContext> = {
  name: 'xml.no-comments',
  spec: '[XMLDSig] 4.4.3.3: same-document references are canonicalized without comments, so a comment is never signed content',
  run(ctx) {
    assertNoCommentsOrInstructions(ctx.doc!);
  },
};

export const isResponse: Check<ResponseCheckContext> = {
  name: 'response.element',
  spec: '[SAMLCore] 3.2.2 and 3.4: a samlp:Response with Version 2.0, an ID and an IssueInstant',
  run(ctx) {
    const root = ctx.doc!.documentElement!;
    const name = `{${root.namespaceURI ?? ''}}${root.localName}`;
    if (!isElement(root, NS.protocol, 'Response')) refuse('saml.not_a_response', `the root element is ${name}`);
    if (attr(root, 'Version') !== '2.0') refuse('saml.not_a_response', `Version is "${attr(root, 'Version') ?? ''}"`);
    if (!attr(root, 'ID') || !attr(root, 'IssueInstant')) refuse('saml.not_a_response', 'the Response lacks ID or IssueInstant');
    ctx.response = root;
  },
};

export const uniqueIds: Check<ResponseCheckContext> = {
  name: 'xml.unique-ids',
  spec: '[SAMLCore] 1.3.4 and [XMLDSig] 4.4.3.3: IDs identify one element',
  run(ctx) {
    assertUniqueIds(ctx.doc!);
  },
};
