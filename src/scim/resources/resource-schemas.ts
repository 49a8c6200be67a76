import { attr, type AttributeDef, type SchemaDef } from '../protocol/schema-model.js';

/**
 * The parts of the RFC 7643 core schemas that Gatehouse keeps (section 4.1 User, 4.2 Group),
 * published at /Schemas and used to interpret PATCH paths. Attributes not listed here are not
 * stored; extension schemas (such as the enterprise user) are accepted on input and dropped.
 */
export const USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const multiValuedEntry = (kind: string, canonical: string[]): AttributeDef[] => [
  attr('value', 'string', `The ${kind}.`),
  attr('display', 'string', 'A human-readable name, primarily used for display purposes.'),
  attr('type', 'string', `A label for the ${kind}'s function.`, { canonicalValues: canonical }),
  attr('primary', 'boolean', `Whether this is the primary ${kind}.`),
];

const reference = (types: string[]): AttributeDef[] => [
  attr('value', 'string', 'The identifier of the member.', { mutability: 'immutable', caseExact: true }),
  attr('$ref', 'reference', 'The URI of the member.', { mutability: 'immutable', referenceTypes: types }),
  attr('display', 'string', 'A human-readable name of the member.', { mutability: 'readOnly' }),
  attr('type', 'string', 'User or Group.', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
];

export const USER_SCHEMA: SchemaDef = {
  id: USER_SCHEMA_ID,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('id', 'string', 'Unique identifier for the user, assigned by Gatehouse (the OIDC subject).', { mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' }),
    attr('externalId', 'string', "The provisioning client's identifier for the user.", { caseExact: true }),
    attr('userName', 'string', 'Unique identifier for the user, used to sign in. Stored lowercased.', { required: true, uniqueness: 'server' }),
    attr('name', 'complex', "The components of the user's name.", {
      subAttributes: [
        attr('formatted', 'string', 'The full name (kept as displayName when no displayName is given).'),
        attr('familyName', 'string', 'The family name.'),
        attr('givenName', 'string', 'The given name.'),
      ],
    }),
    attr('displayName', 'string', 'The name of the user, suitable for display.'),
    attr('active', 'boolean', "The user's administrative status: false refuses sign-in and token refresh."),
    attr('password', 'string', 'Not stored: users provisioned by SCIM sign in through federation.', { mutability: 'writeOnly', returned: 'never' }),
    attr('emails', 'complex', 'Email address (Gatehouse keeps one: the primary, else the first).', { multiValued: true, subAttributes: multiValuedEntry('email address', ['work', 'home', 'other']) }),
    attr('phoneNumbers', 'complex', 'Phone number (Gatehouse keeps one: the primary, else the first).', { multiValued: true, subAttributes: multiValuedEntry('phone number', ['work', 'home', 'mobile', 'other']) }),
    attr('groups', 'complex', 'The groups the user belongs to, directly or through nested groups. Change memberships through the groups.', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'string', 'The id of the group.', { mutability: 'readOnly', caseExact: true }),
        attr('$ref', 'reference', 'The URI of the group.', { mutability: 'readOnly', referenceTypes: ['Group'] }),
        attr('display', 'string', 'The name of the group.', { mutability: 'readOnly' }),
        attr('type', 'string', 'direct or indirect.', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: GROUP_SCHEMA_ID,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('id', 'string', 'Unique identifier for the group, assigned by Gatehouse.', { mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' }),
    attr('externalId', 'string', "The provisioning client's identifier for the group.", { caseExact: true }),
    attr('displayName', 'string', 'A human-readable name for the group; the value apps see in the groups claim.', { required: true }),
    attr('members', 'complex', 'The direct members of the group: users and groups.', { multiValued: true, subAttributes: reference(['User', 'Group']) }),
  ],
};

/** RFC 7643 section 7: a schema resource as /Schemas returns it. */
export function schemaResource(schema: SchemaDef, baseUrl: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}
