import { scimError } from './scim-error.js';

/**
 * A parser for SCIM filters, RFC 7644 section 3.4.2.2:
 *
 *   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
 *   valuePath = attrPath "[" valFilter "]"
 *   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
 *   logExp    = FILTER SP ("and" / "or") SP FILTER
 *   compValue = false / null / true / number / string
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *
 * Recursive descent with the precedence of section 3.4.2.2, table 4: `not` and grouping bind
 * tightest, then `and`, then `or`; operators and keywords are case-insensitive, attribute names
 * too (RFC 7643 2.1). Strings are JSON strings (RFC 7159), as the RFC's examples and clients use.
 */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type CompareValue = string | number | boolean | null;

export interface AttrPath {
  /** The schema URN when the path is fully qualified (lowercased), e.g. urn:ietf:params:scim:schemas:core:2.0:user. */
  urn: string | undefined;
  /** The attribute name as written. */
  attr: string;
  sub: string | undefined;
}

export type FilterNode =
  | { type: 'logical'; op: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; filter: FilterNode }
  | { type: 'compare'; path: AttrPath; op: CompareOp; value: CompareValue }
  | { type: 'present'; path: AttrPath }
  /** `emails[type eq "work"]`: the inner filter's paths are relative to the multi-valued attribute. */
  | { type: 'valuePath'; path: AttrPath; filter: FilterNode };

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

/** Longer filters than this are refused before parsing; deeper nesting than this too. */
export const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'punct'; text: '(' | ')' | '[' | ']'; at: number }
  | { kind: 'end'; at: number };

type ErrorFactory = (message: string) => Error;

export const invalidFilter: ErrorFactory = (message) => scimError('scim.invalid_filter', 'invalidFilter', `invalid filter: ${message}`);

/** Names, paths and keywords: letters, digits, and the URN and path punctuation. */
const WORD = /[A-Za-z0-9_$:.\-]/;

export function tokenize(input: string, fail: ErrorFactory = invalidFilter): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: 'punct', text: c, at: i });
      i++;
    } else if (c === '"') {
      // A JSON string: find its end (skipping escaped characters), then let JSON.parse decode it.
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw fail(`unterminated string at position ${i + 1}`);
      let value: string;
      try {
        value = JSON.parse(input.slice(i, j + 1)) as string;
      } catch {
        throw fail(`malformed string at position ${i + 1}`);
      }
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
    } else if (/[-0-9]/.test(c) && (c !== '-' || /[0-9]/.test(input[i + 1] ?? ''))) {
      const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(input.slice(i));
      if (!match) throw fail(`malformed number at position ${i + 1}`);
      // A number glued to letters is a name (an attribute cannot start with a digit, but be strict).
      if (WORD.test(input[i + match[0].length] ?? '')) throw fail(`unexpected "${input.slice(i, i + match[0].length + 1)}" at position ${i + 1}`);
      tokens.push({ kind: 'number', value: Number(match[0]), at: i });
      i += match[0].length;
    } else if (WORD.test(c)) {
      let j = i;
      while (j < input.length && WORD.test(input[j]!)) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j), at: i });
      i = j;
    } else {
      throw fail(`unexpected character "${c}" at position ${i + 1}`);
    }
  }
  tokens.push({ kind: 'end', at: input.length });
  return tokens;
}

/** `[URI ":"] ATTRNAME ["." subAttr]`: the URN is everything up to the last colon. */
export function parseAttrPath(text: string, fail: ErrorFactory = invalidFilter): AttrPath {
  const colon = text.lastIndexOf(':');
  const urn = colon >= 0 ? text.slice(0, colon).toLowerCase() : undefined;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  if (urn !== undefined && !/^urn:[a-z0-9][a-z0-9-]{0,31}:[a-z0-9()+,\-.:=@;$_!*'%/?#]+$/i.test(urn)) throw fail(`"${text}" is not an attribute path`);
  const parts = rest.split('.');
  const valid = (name: string | undefined) => name !== undefined && /^[A-Za-z][A-Za-z0-9_$-]*$/.test(name);
  // A dot may belong to the URN's version ("2.0"), so only the part after the last colon counts.
  if (parts.length > 2 || !valid(parts[0]) || (parts.length === 2 && !valid(parts[1]))) throw fail(`"${text}" is not an attribute path`);
  return { urn, attr: parts[0]!, sub: parts[1] };
}

export class FilterParser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly fail: ErrorFactory = invalidFilter,
  ) {}

  /** How many tokens have been consumed (a PATCH path continues after its value filter). */
  get consumed(): number {
    return this.pos;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  private expectPunct(text: ')' | ']' | '('): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) throw this.fail(`expected "${text}" at position ${t.at + 1}`);
  }

  /** FILTER, up to the end of the input. */
  parseAll(): FilterNode {
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'end') throw this.fail(`unexpected ${describe(t)} at position ${t.at + 1}`);
    return node;
  }

  parseOr(): FilterNode {
    if (++this.depth > MAX_DEPTH) throw this.fail('the filter is nested too deeply');
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      left = { type: 'logical', op: 'or', left, right: this.parseAnd() };
    }
    this.depth--;
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      left = { type: 'logical', op: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const t = this.peek();
    if (this.isKeyword(t, 'not')) {
      this.next();
      this.expectPunct('(');
      const filter = this.parseOr();
      this.expectPunct(')');
      return { type: 'not', filter };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const inner = this.parseOr();
      this.expectPunct(')');
      return inner;
    }
    return this.parseAttrExpression();
  }

  private parseAttrExpression(): FilterNode {
    const t = this.next();
    if (t.kind !== 'word') throw this.fail(`expected an attribute at position ${t.at + 1}, found ${describe(t)}`);
    const path = parseAttrPath(t.text, this.fail);
    const after = this.peek();
    if (after.kind === 'punct' && after.text === '[') {
      if (path.sub !== undefined) throw this.fail(`a value filter applies to an attribute, not to "${t.text}"`);
      this.next();
      const filter = this.parseOr();
      this.expectPunct(']');
      return { type: 'valuePath', path, filter };
    }
    const op = this.next();
    if (op.kind !== 'word') throw this.fail(`expected an operator after "${t.text}" at position ${op.at + 1}`);
    const opName = op.text.toLowerCase();
    if (opName === 'pr') return { type: 'present', path };
    if (!COMPARE_OPS.has(opName)) throw this.fail(`"${op.text}" is not a filter operator`);
    const v = this.next();
    let value: CompareValue;
    if (v.kind === 'string' || v.kind === 'number') value = v.value;
    else if (this.isKeyword(v, 'true')) value = true;
    else if (this.isKeyword(v, 'false')) value = false;
    else if (this.isKeyword(v, 'null')) value = null;
    else throw this.fail(`expected a value after "${op.text}" at position ${v.at + 1}`);
    return { type: 'compare', path, op: opName as CompareOp, value };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end of the filter';
    case 'word':
      return `"${t.text}"`;
    case 'punct':
      return `"${t.text}"`;
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
  }
}

export function parseFilter(input: string): FilterNode {
  if (input.length > MAX_FILTER_LENGTH) throw invalidFilter(`a filter is at most ${MAX_FILTER_LENGTH} characters`);
  if (input.trim() === '') throw invalidFilter('the filter is empty');
  return new FilterParser(tokenize(input)).parseAll();
}
