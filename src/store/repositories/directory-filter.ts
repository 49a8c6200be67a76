import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Database } from '../database.js';

/**
 * A filter over the tenant directory, in the store's own terms (columns, not SCIM attribute
 * paths). The SCIM layer translates RFC 7644 filters into this; this file turns it into
 * query-builder expressions. No SQL text is ever built from a filter: values are bound
 * parameters, columns come from the closed lists below.
 */
export const USER_FILTER_COLUMNS = [
  'id',
  'username',
  'email',
  'given_name',
  'family_name',
  'display_name',
  'phone',
  'status',
  'source',
  'external_id',
  'created_at',
  'updated_at',
  'version',
] as const;
export type UserFilterColumn = (typeof USER_FILTER_COLUMNS)[number];

export const GROUP_FILTER_COLUMNS = ['id', 'name', 'display_name', 'source', 'external_id', 'created_at', 'updated_at', 'version'] as const;
export type GroupFilterColumn = (typeof GROUP_FILTER_COLUMNS)[number];

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type DirectoryFilter<C extends string> =
  | { kind: 'and' | 'or'; filters: Array<DirectoryFilter<C>> }
  | { kind: 'not'; filter: DirectoryFilter<C> }
  /** `caseInsensitive` compares lower(column) with the value lowercased by the caller. */
  | { kind: 'compare'; column: C; op: CompareOperator; value: string | number; caseInsensitive?: boolean }
  | { kind: 'present'; column: C }
  /** Users: a direct member of the group; groups: has the user or group as a direct member. */
  | { kind: 'member'; id: string }
  | { kind: 'constant'; value: boolean };

type Table = 'users' | 'groups';

/** Numeric columns: "present" is "not null" (the empty-string test is for text columns). */
const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['created_at', 'updated_at', 'version']);

function present<T extends Table>(eb: Eb<T>, column: string): Expression<SqlBool> {
  const ref = eb.ref(column as never) as Expression<string | number>;
  const bare = column.slice(column.indexOf('.') + 1);
  return NUMERIC_COLUMNS.has(bare) ? eb(ref, 'is not', null) : eb.and([eb(ref, 'is not', null), eb(ref, '<>', eb.val(''))]);
}
type Eb<T extends Table> = ExpressionBuilder<Database, T>;

/**
 * SQL's three-valued logic would make `not (email = 'x')` drop rows without an email; SCIM
 * expects them (RFC 7644 3.4.2.2: an absent attribute does not equal a value). Every comparison
 * is therefore made two-valued: `column is not null and <comparison>`.
 */
function compare<T extends Table>(eb: Eb<T>, column: string, op: CompareOperator, value: string | number, lower: boolean): Expression<SqlBool> {
  // The column names are checked against the closed lists by the callers' types; the builder
  // needs them as references of the table at hand.
  const ref = eb.ref(column as never) as Expression<string | number>;
  const left = lower ? eb.fn<string>('lower', [ref]) : ref;
  const present = eb(ref, 'is not', null);
  switch (op) {
    case 'eq':
      return eb.and([present, eb(left, '=', eb.val(value))]);
    case 'ne':
      return eb.or([eb(ref, 'is', null), eb(left, '<>', eb.val(value))]);
    case 'gt':
      return eb.and([present, eb(left, '>', eb.val(value))]);
    case 'ge':
      return eb.and([present, eb(left, '>=', eb.val(value))]);
    case 'lt':
      return eb.and([present, eb(left, '<', eb.val(value))]);
    case 'le':
      return eb.and([present, eb(left, '<=', eb.val(value))]);
    case 'sw':
    case 'ew':
    case 'co': {
      const text = String(value);
      if (text === '') return present;
      // LIKE would need an ESCAPE clause that SQLite and PostgreSQL spell differently; substr,
      // length and replace exist in both and treat every character literally.
      const length = eb.fn<number>('length', [eb.val(text)]);
      if (op === 'sw') return eb.and([present, eb(eb.fn('substr', [left, eb.lit(1), length]), '=', text)]);
      if (op === 'ew') {
        // When the value is longer than the column, the start is <= 0: SQLite then counts from
        // the end and PostgreSQL from the start, but neither result can equal the longer value.
        const start = eb(eb(eb.fn<number>('length', [left]), '-', length), '+', eb.lit(1));
        return eb.and([present, eb(eb.fn('substr', [left, start]), '=', text)]);
      }
      return eb.and([present, eb(eb.fn<number>('length', [eb.fn('replace', [left, eb.val(text), eb.val('')])]), '<', eb.fn<number>('length', [left]))]);
    }
  }
}

export function userFilterExpression(eb: Eb<'users'>, tenantId: string, filter: DirectoryFilter<UserFilterColumn>): Expression<SqlBool> {
  switch (filter.kind) {
    case 'and':
      return eb.and(filter.filters.map((f) => userFilterExpression(eb, tenantId, f)));
    case 'or':
      return eb.or(filter.filters.map((f) => userFilterExpression(eb, tenantId, f)));
    case 'not':
      return eb.not(userFilterExpression(eb, tenantId, filter.filter));
    case 'compare':
      return compare(eb, `users.${filter.column}`, filter.op, filter.value, filter.caseInsensitive ?? false);
    case 'present':
      return present(eb, `users.${filter.column}`);
    case 'constant':
      return eb(eb.val(1), '=', eb.val(filter.value ? 1 : 0));
    case 'member':
      return eb.exists(
        eb
          .selectFrom('group_members')
          .select('group_members.group_id')
          .where('group_members.tenant_id', '=', tenantId)
          .where('group_members.group_id', '=', filter.id)
          .where('group_members.member_type', '=', 'user')
          .whereRef('group_members.member_id', '=', 'users.id'),
      );
  }
}

export function groupFilterExpression(eb: Eb<'groups'>, tenantId: string, filter: DirectoryFilter<GroupFilterColumn>): Expression<SqlBool> {
  switch (filter.kind) {
    case 'and':
      return eb.and(filter.filters.map((f) => groupFilterExpression(eb, tenantId, f)));
    case 'or':
      return eb.or(filter.filters.map((f) => groupFilterExpression(eb, tenantId, f)));
    case 'not':
      return eb.not(groupFilterExpression(eb, tenantId, filter.filter));
    case 'compare':
      return compare(eb, `groups.${filter.column}`, filter.op, filter.value, filter.caseInsensitive ?? false);
    case 'present':
      return present(eb, `groups.${filter.column}`);
    case 'constant':
      return eb(eb.val(1), '=', eb.val(filter.value ? 1 : 0));
    case 'member':
      return eb.exists(
        eb
          .selectFrom('group_members')
          .select('group_members.group_id')
          .where('group_members.tenant_id', '=', tenantId)
          .whereRef('group_members.group_id', '=', 'groups.id')
          .where('group_members.member_id', '=', filter.id),
      );
  }
}
