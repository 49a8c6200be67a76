import { DOMParser, XMLSerializer } from '@xmldom/xmldom';

/**
 * Small, strict XML helpers for SAML messages. Elements are always matched by namespace URI and
 * local name, never by prefix (a prefix is whatever the sender chose), and only among direct
 * children unless a caller asks for the whole document on purpose.
 */

export class XmlRefused extends Error {
  constructor(
    readonly reason: 'doctype' | 'malformed' | 'comment',
    message: string,
  ) {
    super(message);
    this.name = 'XmlRefused';
  }
}

const ELEMENT_NODE = 1;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;
const DOCUMENT_NODE = 9;
const DOCUMENT_TYPE_NODE = 10;

/**
 * A DTD has no place in a SAML message: SAML defines its messages with XML Schema only, SOAP
 * (which SAML's SOAP binding uses) forbids DTDs outright (SOAP 1.1 section 3), and a DTD is how
 * entity expansion ("billion laughs") and external entities (XXE) get into a parser. It is
 * refused on the raw text, before any parser sees it.
 */
export function containsDoctype(text: string): boolean {
  return /<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text);
}

/** Parses a document; throws XmlRefused for a DTD or for anything that is not well-formed. */
export function parseXml(text: string): Document {
  if (containsDoctype(text)) throw new XmlRefused('doctype', 'the message contains a document type declaration (DOCTYPE)');
  const problems: string[] = [];
  const doc = new DOMParser({
    locator: {},
    errorHandler: {
      warning: (m: string) => problems.push(m),
      error: (m: string) => problems.push(m),
      fatalError: (m: string) => problems.push(m),
    },
  }).parseFromString(text, 'text/xml');
  if (problems.length || !doc?.documentElement) throw new XmlRefused('malformed', `the message is not well-formed XML: ${(problems[0] ?? 'no root element').slice(0, 200)}`);
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE) throw new XmlRefused('doctype', 'the message contains a document type declaration (DOCTYPE)');
  }
  return doc;
}

/**
 * Comments and processing instructions inside a SAML message are refused. Canonicalization for a
 * same-document signature reference removes comments ([XMLDSig] 4.4.3.3), so they are never
 * signed: a comment inserted after signing ("alice@evil.example<!---->.good.example") leaves the
 * signature valid and fools any reader that takes one text node for the whole value.
 */
export function assertNoCommentsOrInstructions(root: Node): void {
  const walk = (node: Node) => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === COMMENT_NODE) throw new XmlRefused('comment', 'the message contains an XML comment');
      // xmldom reports the XML declaration (`<?xml version="1.0"?>`) as a processing instruction
      // named "xml"; it is not one (XML 1.0, 2.8) and is allowed where it belongs, first.
      const isDeclaration = n.nodeType === PROCESSING_INSTRUCTION_NODE && n.nodeName === 'xml' && node === root && n === root.firstChild && root.nodeType === DOCUMENT_NODE;
      if (n.nodeType === PROCESSING_INSTRUCTION_NODE && !isDeclaration) throw new XmlRefused('comment', 'the message contains a processing instruction');
      if (n.nodeType === ELEMENT_NODE) walk(n);
    }
  };
  walk(root);
}

export function isElement(node: Node | null | undefined, ns: string, localName: string): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE && (node as Element).namespaceURI === ns && (node as Element).localName === localName;
}

/** Direct child elements with this namespace and local name. */
export function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (isElement(n, ns, localName)) out.push(n);
  return out;
}

export function child(parent: Element, ns: string, localName: string): Element | undefined {
  return children(parent, ns, localName)[0];
}

/** Every element below `root` (and root itself) with this namespace and local name, at any depth. */
export function descendants(root: Element | Document, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  const walk = (node: Node) => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== ELEMENT_NODE) continue;
      if (isElement(n, ns, localName)) out.push(n as Element);
      walk(n);
    }
  };
  if ((root as Node).nodeType === ELEMENT_NODE && isElement(root as Element, ns, localName)) out.push(root as Element);
  walk(root as Node);
  return out;
}

/** Every element at any depth (for the ID uniqueness check). */
export function allElements(root: Node): Element[] {
  const out: Element[] = [];
  const walk = (node: Node) => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== ELEMENT_NODE) continue;
      out.push(n as Element);
      walk(n);
    }
  };
  if (root.nodeType === ELEMENT_NODE) out.push(root as Element);
  walk(root);
  return out;
}

/** An attribute without namespace, or undefined when absent. */
export function attr(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? element.getAttribute(name)! : undefined;
}

/** The text of an element: all of its text, so a split text node cannot shorten a value. */
export function text(element: Element | undefined): string | undefined {
  if (!element) return undefined;
  return (element.textContent ?? '').trim();
}

export function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

/** [XMLSchema-2] dateTime as used by SAML ([SAMLCore] 1.3.3: UTC, no time zone offset needed). */
export function parseInstant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return Number.NaN;
  return Date.parse(value);
}

/** XML-escape for building messages (attribute and text content). */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** PEM from a certificate as PEM or as base64 DER (the text of an `<X509Certificate>`). */
export function toCertificatePem(value: string): string {
  const trimmed = value.trim();
  const body = trimmed.startsWith('-----BEGIN')
    ? trimmed.replace(/-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----/g, '')
    : trimmed;
  const base64 = body.replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
}

/** The base64 DER body of a PEM certificate (for `<X509Certificate>`). */
export function certificateBody(pem: string): string {
  return pem.replace(/-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----|\s+/g, '');
}
