import type { ExternalGroup, ExternalIdentity } from '../connector.js';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { ValidatedSamlResponse } from './saml-response-validator.js';
import { DEFAULT_ATTRIBUTE_MAPPING } from './saml-connection-schema.js';
import { NAME_ID_FORMATS, PASSWORD_CLASS_REFS, nameIdFormatName } from './saml-constants.js';
import { SamlRefusedError } from './saml-errors.js';

type Attributes = ValidatedSamlResponse['attributes'];

/** All values of the first of `names` the partner sent, matched by Name, then by FriendlyName. */
export function attributeValues(attributes: Attributes, names: readonly string[] | undefined): string[] {
  for (const name of names ?? []) {
    const byName = attributes.get(name);
    if (byName?.values.length) return byName.values;
    for (const attribute of attributes.values()) if (attribute.friendlyName === name && attribute.values.length) return attribute.values;
  }
  return [];
}

const first = (attributes: Attributes, names: readonly string[] | undefined) => attributeValues(attributes, names)[0];

/**
 * Turns a validated response into the normalised ExternalIdentity every connector returns.
 * - externalId: the mapped attribute when the connection names one, else the NameID. A transient
 *   NameID ([SAMLCore] 8.3.8) is different at every sign-in and is never used as an id.
 * - The NameID formats persistent, emailAddress and unspecified ([SAMLCore] 8.3.7, 8.3.2, 8.3.1)
 *   are used as they are; an emailAddress NameID is also the email when no attribute gives one.
 * - The partner's AuthnContextClassRef is kept; `multiFactor` is true only when the connection
 *   trusts the partner's MFA and the class is one it lists.
 */
export function mapSamlIdentity(connection: SamlConnectionRecord, response: ValidatedSamlResponse): ExternalIdentity {
  const settings = connection.settings;
  const mapping = settings.attributes;
  const attributes = response.attributes;
  const format = nameIdFormatName(response.nameId.format);
  const refuse = (detail: string): never => {
    throw new SamlRefusedError('saml.subject_invalid', 'identity.map', '[SAMLCore] 8.3: name identifier formats', detail);
  };

  let externalId: string | undefined;
  if (mapping.externalId) {
    const values = attributeValues(attributes, mapping.externalId);
    if (values.length !== 1) refuse(`the externalId attribute (${mapping.externalId.join(' | ')}) has ${values.length} values (exactly one is needed)`);
    externalId = values[0];
  } else {
    if (format === 'transient') refuse('a transient NameID cannot identify a person across sign-ins; map externalId to an attribute');
    externalId = response.nameId.value;
  }

  const email =
    first(attributes, mapping.email ?? DEFAULT_ATTRIBUTE_MAPPING.email) ??
    (response.nameId.format === NAME_ID_FORMATS.emailAddress ? response.nameId.value : undefined);
  const username = (mapping.username ? first(attributes, mapping.username) : undefined) ?? email ?? response.nameId.value;

  const groupValues = [...new Set(attributeValues(attributes, mapping.groups ?? DEFAULT_ATTRIBUTE_MAPPING.groups))];
  const groups: ExternalGroup[] = groupValues.map((value) => ({ externalId: value, name: value }));
  const roles = [...new Set(groupValues.flatMap((g) => settings.roleMapping[g] ?? []))];

  const claims: Record<string, unknown> = {};
  for (const [claim, attribute] of Object.entries(settings.claims)) {
    const values = attributeValues(attributes, [attribute]);
    if (values.length) claims[claim] = values.length === 1 ? values[0] : values;
  }

  const classRef = response.authnContextClassRef;
  const multiFactor = Boolean(settings.trustPartnerMfa && classRef && settings.mfaClassRefs.includes(classRef));
  // RFC 8176 method references: `pwd` for the SAML password classes, `mfa` for trusted MFA.
  const amr = [...((PASSWORD_CLASS_REFS as readonly string[]).includes(classRef ?? '') ? ['pwd'] : []), ...(multiFactor ? ['mfa'] : [])];

  return {
    source: `saml:${connection.id}`,
    externalId: externalId!,
    username,
    email,
    // The partner's word, not a verification of ours: apps must not treat it as verified.
    emailVerified: false,
    givenName: first(attributes, mapping.givenName ?? DEFAULT_ATTRIBUTE_MAPPING.givenName),
    familyName: first(attributes, mapping.familyName ?? DEFAULT_ATTRIBUTE_MAPPING.familyName),
    displayName: first(attributes, mapping.displayName ?? DEFAULT_ATTRIBUTE_MAPPING.displayName),
    phone: mapping.phone ? first(attributes, mapping.phone) : undefined,
    groups,
    roles,
    authentication: { amr, classRef, multiFactor },
    attributes: { ...claims, samlNameIdFormat: format ?? response.nameId.format },
  };
}
