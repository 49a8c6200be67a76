/**
 * Distinguished names as strings (RFC 4514): parsing, escaping and a normalised form for
 * comparison.
 *
 * Gatehouse identifies groups by DN and maps groups to roles by DN, so it must compare DNs the
 * way a directory does: attribute types are case-insensitive, and the values of the naming
 * attributes used in practice (cn, ou, dc, uid, o, l, ...) use caseIgnoreMatch (RFC 4517 §4.2.11)
 * with insignificant spaces removed (RFC 4518 §2.6.1). Servers also differ in how they print the
 * same DN (`CN=Carol M\C3\BCller`, `cn=Carol Müller`, `cn=a\,b` vs `cn=a\2Cb`), which the
 * normalised form absorbs.
 */

export interface AttributeTypeAndValue {
  type: string;
  /** The value, unescaped (RFC 4514 §3), or `#<hex>` for a BER-encoded value (§2.4). */
  value: string;
}

export type Rdn = AttributeTypeAndValue[];

export class DnSyntaxError extends Error {
  constructor(dn: string, why: string) {
    super(`"${dn}" is not a valid distinguished name (RFC 4514): ${why}`);
    this.name = 'DnSyntaxError';
  }
}

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;
const HEX = /^[0-9A-Fa-f]{2}$/;
/** RFC 4514 §3 `special`: characters that may follow a backslash as themselves. */
const ESCAPABLE = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);

/** Parses a DN string into its RDNs, most specific first (as written). An empty string is the root DSE. */
export function parseDn(dn: string): Rdn[] {
  const rdns: Rdn[] = [];
  if (dn.trim() === '') return rdns;
  let i = 0;
  let rdn: Rdn = [];
  const fail = (why: string): never => {
    throw new DnSyntaxError(dn, why);
  };
  while (i <= dn.length) {
    // attributeType, tolerating spaces around it (common in hand-written DNs).
    while (dn[i] === ' ') i++;
    const eq = dn.indexOf('=', i);
    if (eq < 0) fail(`missing "=" after position ${i}`);
    const type = dn.slice(i, eq).trim();
    if (!TYPE.test(type)) fail(`"${type}" is not an attribute type`);
    i = eq + 1;
    while (dn[i] === ' ') i++;
    let value = '';
    if (dn[i] === '#') {
      // hexstring: a BER encoding, kept as written (lowercased) since we never decode BER here.
      const m = /^#([0-9A-Fa-f]{2})+/.exec(dn.slice(i));
      if (!m) fail('a value starting with "#" must be hex pairs');
      value = m![0].toLowerCase();
      i += m![0].length;
      while (dn[i] === ' ') i++;
    } else {
      const bytes: number[] = [];
      let trailingUnescapedSpaces = 0;
      const pushText = (s: string) => {
        for (const b of Buffer.from(s, 'utf8')) bytes.push(b);
      };
      while (i < dn.length && dn[i] !== ',' && dn[i] !== '+' && dn[i] !== ';') {
        const c = dn[i]!;
        if (c === '\\') {
          const next = dn[i + 1];
          if (next === undefined) fail('a "\\" at the end');
          const pair = dn.slice(i + 1, i + 3);
          if (HEX.test(pair)) {
            bytes.push(parseInt(pair, 16));
            i += 3;
          } else if (ESCAPABLE.has(next!)) {
            pushText(next!);
            i += 2;
          } else {
            fail(`"\\${next}" is not a valid escape`);
          }
          trailingUnescapedSpaces = 0;
          continue;
        }
        if (c === '"' || c === '<' || c === '>' || c === '\0') fail(`"${c}" must be escaped`);
        // One code point (those outside the BMP take two UTF-16 units).
        const char = String.fromCodePoint(dn.codePointAt(i)!);
        pushText(char);
        trailingUnescapedSpaces = char === ' ' ? trailingUnescapedSpaces + 1 : 0;
        i += char.length;
      }
      // Unescaped trailing spaces are not part of the value (RFC 4514 §3: they must be escaped).
      bytes.splice(bytes.length - trailingUnescapedSpaces, trailingUnescapedSpaces);
      const buf = Buffer.from(bytes);
      const text = buf.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(buf)) fail('escaped bytes are not UTF-8');
      value = text;
    }
    rdn.push({ type, value });
    const sep = dn[i];
    if (sep === '+') {
      i++;
      continue;
    }
    rdns.push(rdn);
    rdn = [];
    if (sep === undefined) break;
    if (sep !== ',' && sep !== ';') fail(`unexpected "${sep}"`);
    i++;
    if (i >= dn.length) fail('an empty RDN at the end');
  }
  return rdns;
}

/** Escapes an attribute value for use in a DN string (RFC 4514 §2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((c, index) => {
    if (c === '\0') out += '\\00';
    else if (c === '"' || c === '+' || c === ',' || c === ';' || c === '<' || c === '>' || c === '\\' || c === '=') out += `\\${c}`;
    else if (index === 0 && (c === ' ' || c === '#')) out += `\\${c}`;
    else if (index === chars.length - 1 && c === ' ') out += '\\ ';
    else out += c;
  });
  return out;
}

/** Serialises RDNs back to an RFC 4514 string. */
export function formatDn(rdns: Rdn[]): string {
  return rdns.map((rdn) => rdn.map((ava) => `${ava.type}=${ava.value.startsWith('#') && /^#([0-9a-f]{2})+$/.test(ava.value) ? ava.value : escapeDnValue(ava.value)}`).join('+')).join(',');
}

/** RFC 4518 §2.6.1 insignificant space handling and caseIgnoreMatch folding. */
function foldValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The normalised form of a DN for equality: lowercased types, case-folded values with
 * insignificant spaces removed, multi-valued RDNs in a fixed order, canonical escaping. Throws
 * DnSyntaxError for something that is not a DN.
 */
export function normalizeDn(dn: string): string {
  const rdns = parseDn(dn).map((rdn) =>
    rdn
      .map((ava) => ({ type: ava.type.toLowerCase(), value: ava.value.startsWith('#') ? ava.value : foldValue(ava.value) }))
      .sort((a, b) => (a.type === b.type ? (a.value < b.value ? -1 : 1) : a.type < b.type ? -1 : 1)),
  );
  return formatDn(rdns);
}

export function dnEquals(a: string, b: string): boolean {
  try {
    return normalizeDn(a) === normalizeDn(b);
  } catch {
    return false;
  }
}

export function isValidDn(dn: string): boolean {
  try {
    parseDn(dn);
    return true;
  } catch {
    return false;
  }
}

/** The value of the first (most specific) RDN, e.g. the cn of a group: a readable label. */
export function leafValue(dn: string): string | undefined {
  try {
    return parseDn(dn)[0]?.[0]?.value;
  } catch {
    return undefined;
  }
}
