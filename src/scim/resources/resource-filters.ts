import type { AttrPath, CompareOp, CompareValue, FilterNode } from '../protocol/filter-parser.js';
import { invalidFilter } from '../protocol/filter-parser.js';
import type { CompareOperator, DirectoryFilter, GroupFilterColumn, UserFilterColumn } from '../../store/repositories/directory-filter.js';
import { GROUP_SCHEMA_ID, USER_SCHEMA_ID } from './resource-schemas.js';

/**
 * Translates SCIM filters (RFC 7644 3.4.2.2) over Users and Groups into directory filters, which
 * the store turns into query-builder expressions scoped to the tenant. Attributes map to columns
 * through the tables below; an attribute or operator that has no translation is refused with
 * `invalidFilter` (RFC 7644 3.12: "the specified attribute and filter comparison combination is
 * not supported"), never silently ignored.
 */
type Kind = 'string' | 'caseExact' | 'dateTime' | 'boolean';

interface Mapping<C extends string> {
  kind: Kind;
  /** The column, or a function building the filter for attributes that are not one column. */
  column?: C;
  build?: (op: CompareOp | 'pr', value: CompareValue) => DirectoryFilter<C>;
}

const constant = <C extends string>(value: boolean): DirectoryFilter<C> => ({ kind: 'constant', value });

function compareOn<C extends string>(column: C, kind: Kind, op: CompareOp | 'pr', value: CompareValue, name: string): DirectoryFilter<C> {
  if (op === 'pr') return { kind: 'present', column };
  if (value === null) {
    // `eq null` is "absent" (RFC 7644 3.4.2.2 leaves it to the provider; this is the common reading).
    if (op === 'eq') return { kind: 'not', filter: { kind: 'present', column } };
    if (op === 'ne') return { kind: 'present', column };
    throw invalidFilter(`"${op} null" is not supported`);
  }
  if (kind === 'dateTime') {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw invalidFilter(`${name} is compared with a date and time such as "2026-01-01T00:00:00Z"`);
    if (['co', 'sw', 'ew'].includes(op)) throw invalidFilter(`"${op}" does not apply to the date ${name}`);
    return { kind: 'compare', column, op: op as CompareOperator, value: ms };
  }
  if (typeof value !== 'string') throw invalidFilter(`${name} is compared with a string`);
  return kind === 'caseExact'
    ? { kind: 'compare', column, op: op as CompareOperator, value }
    : { kind: 'compare', column, op: op as CompareOperator, value: value.toLowerCase(), caseInsensitive: true };
}

function booleanOn<C extends string>(build: (v: boolean) => DirectoryFilter<C>, op: CompareOp | 'pr', value: CompareValue, name: string): DirectoryFilter<C> {
  if (op === 'pr') return constant(true);
  if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne')) throw invalidFilter(`${name} takes "eq true", "eq false", "ne ..." or "pr"`);
  return build(op === 'eq' ? value : !value);
}

function memberOf<C extends string>(op: CompareOp | 'pr', value: CompareValue, name: string): DirectoryFilter<C> {
  if (op !== 'eq' || typeof value !== 'string') throw invalidFilter(`${name} supports only "eq" with an id`);
  return { kind: 'member', id: value };
}

const USER_ATTRIBUTES: Record<string, Mapping<UserFilterColumn>> = {
  id: { kind: 'caseExact', column: 'id' },
  // Only users SCIM provisioned keep the client's externalId in the directory's external id.
  externalid: {
    kind: 'caseExact',
    build: (op, value) => ({ kind: 'and', filters: [{ kind: 'compare', column: 'source', op: 'eq', value: 'scim' }, compareOn('external_id', 'caseExact', op, value, 'externalId')] }),
  },
  username: { kind: 'string', column: 'username' },
  'name.givenname': { kind: 'string', column: 'given_name' },
  'name.familyname': { kind: 'string', column: 'family_name' },
  'name.formatted': { kind: 'string', column: 'display_name' },
  displayname: { kind: 'string', column: 'display_name' },
  emails: { kind: 'string', column: 'email' },
  'emails.value': { kind: 'string', column: 'email' },
  // Gatehouse keeps one address, presented as the primary work address.
  'emails.type': { kind: 'string', build: (op, value) => (op === 'pr' ? constant(true) : constant(op === 'eq' && String(value).toLowerCase() === 'work')) },
  'emails.primary': { kind: 'boolean', build: (op, value) => booleanOn((v) => (v ? { kind: 'present', column: 'email' } : constant(false)), op, value, 'emails.primary') },
  phonenumbers: { kind: 'string', column: 'phone' },
  'phonenumbers.value': { kind: 'string', column: 'phone' },
  active: {
    kind: 'boolean',
    build: (op, value) =>
      booleanOn(
        (v) => (v ? { kind: 'compare', column: 'status', op: 'eq', value: 'active' } : { kind: 'compare', column: 'status', op: 'ne', value: 'active' }),
        op,
        value,
        'active',
      ),
  },
  groups: { kind: 'caseExact', build: (op, value) => memberOf(op, value, 'groups') },
  'groups.value': { kind: 'caseExact', build: (op, value) => memberOf(op, value, 'groups.value') },
  'meta.created': { kind: 'dateTime', column: 'created_at' },
  'meta.lastmodified': { kind: 'dateTime', column: 'updated_at' },
};

const GROUP_ATTRIBUTES: Record<string, Mapping<GroupFilterColumn>> = {
  id: { kind: 'caseExact', column: 'id' },
  externalid: {
    kind: 'caseExact',
    build: (op, value) => ({ kind: 'and', filters: [{ kind: 'compare', column: 'source', op: 'eq', value: 'scim' }, compareOn('external_id', 'caseExact', op, value, 'externalId')] }),
  },
  // displayName is the display name when the group has one, else its name (group-mapping.ts).
  displayname: {
    kind: 'string',
    build: (op, value) => ({
      kind: 'or',
      filters: [
        compareOn('display_name', 'string', op, value, 'displayName'),
        { kind: 'and', filters: [{ kind: 'not', filter: { kind: 'present', column: 'display_name' } }, compareOn('name', 'string', op, value, 'displayName')] },
      ],
    }),
  },
  members: { kind: 'caseExact', build: (op, value) => memberOf(op, value, 'members') },
  'members.value': { kind: 'caseExact', build: (op, value) => memberOf(op, value, 'members.value') },
  'meta.created': { kind: 'dateTime', column: 'created_at' },
  'meta.lastmodified': { kind: 'dateTime', column: 'updated_at' },
};

function pathName(path: AttrPath, schemaId: string, prefix?: string): string {
  if (path.urn !== undefined && path.urn !== schemaId.toLowerCase()) throw invalidFilter(`attributes of ${path.urn} cannot be filtered on`);
  const name = [path.attr, path.sub].filter(Boolean).join('.').toLowerCase();
  return prefix ? `${prefix}.${name}` : name;
}

function translate<C extends string>(node: FilterNode, table: Record<string, Mapping<C>>, schemaId: string, prefix?: string): DirectoryFilter<C> {
  switch (node.type) {
    case 'logical':
      return { kind: node.op, filters: [translate(node.left, table, schemaId, prefix), translate(node.right, table, schemaId, prefix)] };
    case 'not':
      return { kind: 'not', filter: translate(node.filter, table, schemaId, prefix) };
    case 'valuePath': {
      if (prefix) throw invalidFilter('a value filter cannot be nested in another');
      return translate(node.filter, table, schemaId, pathName(node.path, schemaId));
    }
    case 'present':
    case 'compare': {
      const name = pathName(node.path, schemaId, prefix);
      const mapping = table[name];
      if (!mapping) throw invalidFilter(`"${name}" cannot be filtered on`);
      const op = node.type === 'present' ? 'pr' : node.op;
      const value = node.type === 'present' ? null : node.value;
      if (mapping.build) return mapping.build(op, value);
      return compareOn(mapping.column!, mapping.kind, op, value, name);
    }
  }
}

export const userFilter = (node: FilterNode) => translate(node, USER_ATTRIBUTES, USER_SCHEMA_ID);
export const groupFilter = (node: FilterNode) => translate(node, GROUP_ATTRIBUTES, GROUP_SCHEMA_ID);
