import type { CompareValue, FilterNode } from './filter-parser.js';
import { keyOf } from './schema-model.js';
import { scimError } from './scim-error.js';

/**
 * Evaluates a value filter against one value of a multi-valued attribute in memory (PATCH paths
 * such as `members[value eq "..."]` or `emails[type eq "work"]`). Filters over whole resources
 * are never evaluated here: they become store queries (resources/*-filter.ts).
 *
 * Comparisons are case-insensitive except on `value` and `$ref` (ids and URIs are case-exact,
 * RFC 7643 section 2.4 and 4.1.2).
 */
function field(element: unknown, name: string): unknown {
  if (element === null || typeof element !== 'object') return name.toLowerCase() === 'value' ? element : undefined;
  const key = keyOf(element as Record<string, unknown>, name);
  return key === undefined ? undefined : (element as Record<string, unknown>)[key];
}

function compare(actual: unknown, op: string, expected: CompareValue, caseExact: boolean): boolean {
  if (op === 'eq' && expected === null) return actual === undefined || actual === null;
  if (op === 'ne' && expected === null) return actual !== undefined && actual !== null;
  if (actual === undefined || actual === null) return op === 'ne';
  if (typeof expected === 'boolean' || typeof actual === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw scimError('scim.invalid_filter', 'invalidFilter', `"${op}" does not apply to booleans`);
    return (String(actual).toLowerCase() === String(expected).toLowerCase()) === (op === 'eq');
  }
  const fold = (v: unknown) => (caseExact ? String(v) : String(v).toLowerCase());
  const a = typeof actual === 'number' && typeof expected === 'number' ? actual : fold(actual);
  const e = typeof actual === 'number' && typeof expected === 'number' ? expected : fold(expected);
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return String(a).includes(String(e));
    case 'sw':
      return String(a).startsWith(String(e));
    case 'ew':
      return String(a).endsWith(String(e));
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
    default:
      return false;
  }
}

export function matchesValueFilter(element: unknown, filter: FilterNode): boolean {
  switch (filter.type) {
    case 'logical':
      return filter.op === 'and' ? matchesValueFilter(element, filter.left) && matchesValueFilter(element, filter.right) : matchesValueFilter(element, filter.left) || matchesValueFilter(element, filter.right);
    case 'not':
      return !matchesValueFilter(element, filter.filter);
    case 'present': {
      const v = field(element, filter.path.sub ?? filter.path.attr);
      return v !== undefined && v !== null && v !== '';
    }
    case 'compare': {
      const name = filter.path.sub ?? filter.path.attr;
      return compare(field(element, name), filter.op, filter.value, ['value', '$ref'].includes(name.toLowerCase()));
    }
    case 'valuePath':
      throw scimError('scim.invalid_filter', 'invalidFilter', 'a value filter cannot be nested in another');
  }
}
