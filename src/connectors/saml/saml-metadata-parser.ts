import { X509Certificate } from 'node:crypto';
import { GatehouseError } from '../../errors/gatehouse-error.js';
import { attr, children, descendants, parseInstant, parseXml, text, toCertificatePem, XmlRefused } from './saml-xml.js';
import { bindingName, NS } from './saml-constants.js';
import type { SamlEndpoint } from './saml-connection-schema.js';

/** What Gatehouse takes from a partner's metadata ([SAMLMeta] 2.3.2, 2.4.3). */
export interface ParsedIdpMetadata {
  entityId: string;
  /** PEM; every signing key listed (two during a rollover). */
  signingCertificates: string[];
  sso: SamlEndpoint[];
  slo: SamlEndpoint[];
}

const invalid = (message: string) => new GatehouseError('saml.metadata_invalid', `partner metadata: ${message}`);

function endpoints(descriptor: Element, name: string): SamlEndpoint[] {
  const out: SamlEndpoint[] = [];
  for (const e of children(descriptor, NS.metadata, name)) {
    const binding = bindingName(attr(e, 'Binding') ?? '');
    const url = attr(e, 'Location');
    if (!binding || !url || !URL.canParse(url)) continue; // SOAP, Artifact and others are not used
    out.push({ binding, url, ...(attr(e, 'ResponseLocation') ? { responseUrl: attr(e, 'ResponseLocation') } : {}) });
  }
  // Redirect first: it is what AuthnRequests and logout messages prefer when a partner offers both.
  return out.sort((a, b) => (a.binding === b.binding ? 0 : a.binding === 'redirect' ? -1 : 1));
}

/**
 * Reads an IdP's metadata: an EntityDescriptor, or an EntitiesDescriptor (a federation
 * aggregate) from which the IdP is chosen by `entityId`. Keys: KeyDescriptors with use="signing"
 * or without `use` ([SAMLMeta] 2.4.1.1: no use means both). A document past its validUntil
 * ([SAMLMeta] 2.3.1) is refused. Metadata is not itself signature-checked here: it is trusted
 * because of where it comes from (a file an administrator gave, or an https URL).
 */
export function parseIdpMetadata(xml: string, options: { entityId?: string | undefined; now: number }): ParsedIdpMetadata {
  let doc: Document;
  try {
    doc = parseXml(xml);
  } catch (error) {
    if (error instanceof XmlRefused) throw invalid(error.message);
    throw error;
  }
  const root = doc.documentElement!;
  const validUntil = parseInstant(attr(root, 'validUntil'));
  if (validUntil !== undefined && (Number.isNaN(validUntil) || validUntil <= options.now)) throw invalid(`the document expired (validUntil ${attr(root, 'validUntil')})`);
  const entities = descendants(doc, NS.metadata, 'EntityDescriptor').filter((e) => children(e, NS.metadata, 'IDPSSODescriptor').length > 0);
  const chosen = options.entityId ? entities.filter((e) => attr(e, 'entityID') === options.entityId) : entities;
  if (chosen.length === 0) throw invalid(options.entityId ? `no identity provider with entityID "${options.entityId}"` : 'no IDPSSODescriptor');
  if (chosen.length > 1) throw invalid(`${chosen.length} identity providers; set idp.entityId to choose one`);
  const entity = chosen[0]!;
  const entityId = attr(entity, 'entityID');
  if (!entityId) throw invalid('the EntityDescriptor has no entityID');
  const descriptor = children(entity, NS.metadata, 'IDPSSODescriptor').find((d) => (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol));
  if (!descriptor) throw invalid('the IDPSSODescriptor does not support SAML 2.0');

  const signingCertificates: string[] = [];
  for (const key of children(descriptor, NS.metadata, 'KeyDescriptor')) {
    const use = attr(key, 'use');
    if (use !== undefined && use !== 'signing') continue;
    for (const cert of descendants(key, NS.dsig, 'X509Certificate')) {
      const pem = toCertificatePem(text(cert) ?? '');
      try {
        new X509Certificate(pem);
      } catch {
        throw invalid('a signing certificate cannot be read');
      }
      if (!signingCertificates.includes(pem)) signingCertificates.push(pem);
    }
  }
  if (signingCertificates.length === 0) throw invalid('no signing certificate');
  const sso = endpoints(descriptor, 'SingleSignOnService');
  if (sso.length === 0) throw invalid('no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding');
  return { entityId, signingCertificates, sso, slo: endpoints(descriptor, 'SingleLogoutService') };
}
