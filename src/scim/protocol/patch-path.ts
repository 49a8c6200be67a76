import { FilterParser, parseAttrPath, tokenize, type AttrPath, type FilterNode } from './filter-parser.js';
import { scimError } from './scim-error.js';

/**
 * A PATCH operation's `path` (RFC 7644 section 3.5.2): `PATH = attrPath / valuePath [subAttr]`,
 * e.g. `displayName`, `name.familyName`, `members[value eq "2819c223"]`,
 * `emails[type eq "work"].value`.
 */
export interface PatchPath {
  path: AttrPath;
  /** The value filter of a valuePath. */
  filter: FilterNode | undefined;
  /** The sub-attribute after a valuePath's filter (`.value`). */
  subAfterFilter: string | undefined;
}

const invalidPath = (message: string) => scimError('scim.invalid_path', 'invalidPath', `invalid path: ${message}`);

export function parsePatchPath(text: string): PatchPath {
  if (text.length > 1024 || text.trim() === '') throw invalidPath('the path is empty or too long');
  const tokens = tokenize(text, invalidPath);
  const first = tokens[0]!;
  if (first.kind !== 'word') throw invalidPath(`"${text}" does not start with an attribute`);
  const path = parseAttrPath(first.text, invalidPath);
  const second = tokens[1]!;
  if (second.kind === 'end') return { path, filter: undefined, subAfterFilter: undefined };
  if (second.kind !== 'punct' || second.text !== '[' || path.sub !== undefined) throw invalidPath(`"${text}" is not an attribute path`);
  // Parse the value filter from the token after "[" up to the matching "]".
  const inner = tokens.slice(2);
  const parser = new FilterParser(inner, (message) => invalidPath(message));
  const filter = parser.parseOr();
  const rest = inner.slice(parser.consumed);
  const close = rest[0];
  if (!close || close.kind !== 'punct' || close.text !== ']') throw invalidPath(`"${text}": expected "]"`);
  const tail = rest[1]!;
  if (tail.kind === 'end') return { path, filter, subAfterFilter: undefined };
  if (tail.kind === 'word' && /^\.[A-Za-z][A-Za-z0-9_$-]*$/.test(tail.text) && rest[2]?.kind === 'end') {
    return { path, filter, subAfterFilter: tail.text.slice(1) };
  }
  throw invalidPath(`"${text}": unexpected text after "]"`);
}
