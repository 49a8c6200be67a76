import { parseFilter, type FilterNode } from './filter-parser.js';
import { scimError } from './scim-error.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Page size when the client names none, and the most it may ask for (ServiceProviderConfig filter.maxResults). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 200;
/**
 * Index-based pagination (RFC 7644 3.4.2.4) makes the database skip every row before the page;
 * past this depth we answer `tooMany` and ask for a narrower filter rather than scan further.
 */
export const MAX_START_INDEX = 10_000;

export interface ListRequest {
  filter: FilterNode | undefined;
  startIndex: number;
  count: number;
  attributes: string[] | undefined;
  excludedAttributes: string[] | undefined;
}

function integer(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?[0-9]{1,9}$/.test(raw)) throw scimError('scim.invalid_value', 'invalidValue', `${name} must be an integer`);
  return Number(raw);
}

function names(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * The query of a list request (RFC 7644 3.4.2): `filter`, `startIndex` (1-based; below 1 counts
 * as 1), `count` (negative counts as 0; capped at MAX_PAGE_SIZE), `attributes`,
 * `excludedAttributes`. `sortBy` is not supported (ServiceProviderConfig says so) and is ignored:
 * results come in creation order, which keeps pages stable.
 */
export function parseListRequest(query: Record<string, string | string[] | undefined>): ListRequest {
  const one = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value)) throw scimError('scim.invalid_value', 'invalidValue', `${name} is given more than once`);
    return value;
  };
  const startIndex = Math.max(1, integer('startIndex', one('startIndex')) ?? 1);
  if (startIndex > MAX_START_INDEX) {
    throw scimError('scim.too_many', 'tooMany', `startIndex goes past ${MAX_START_INDEX}: narrow the filter instead of paging this deep`);
  }
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, integer('count', one('count')) ?? DEFAULT_PAGE_SIZE));
  const filterText = one('filter');
  return {
    filter: filterText === undefined ? undefined : parseFilter(filterText),
    startIndex,
    count,
    attributes: names(one('attributes')),
    excludedAttributes: names(one('excludedAttributes')),
  };
}

export function listResponse(total: number, startIndex: number, resources: unknown[]) {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}
