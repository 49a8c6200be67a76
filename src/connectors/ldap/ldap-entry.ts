import type { Entry } from 'ldapts';

/**
 * A search result entry read case-insensitively (attribute names are case-insensitive,
 * RFC 4512 §2.5; servers answer in their own spelling: `objectGUID`, `objectguid`).
 */
export class LdapEntry {
  private readonly byName = new Map<string, Array<string | Buffer>>();

  constructor(readonly raw: Entry) {
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'dn') continue;
      const values = Array.isArray(value) ? value : [value];
      this.byName.set(key.toLowerCase(), values as Array<string | Buffer>);
    }
  }

  get dn(): string {
    return this.raw.dn;
  }

  /** Every value as text (binary values as UTF-8, which only text attributes should be asked for). */
  all(name: string): string[] {
    return (this.byName.get(name.toLowerCase()) ?? []).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
  }

  first(name: string | undefined): string | undefined {
    if (!name) return undefined;
    const value = this.all(name)[0];
    return value === undefined || value === '' ? undefined : value;
  }

  /** The first value as bytes (binary attributes such as objectGUID). */
  bytes(name: string): Buffer | undefined {
    const value = this.byName.get(name.toLowerCase())?.[0];
    if (value === undefined) return undefined;
    return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  }

  has(name: string): boolean {
    return (this.byName.get(name.toLowerCase())?.length ?? 0) > 0;
  }
}

/**
 * objectGUID as the string form people and tools use ([MS-DTYP] 2.3.4.3): the first three
 * fields are stored little-endian, the last two big-endian.
 */
export function formatGuid(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`a GUID has 16 bytes, got ${bytes.length}`);
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(bytes.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** The immutable id of an entry in the configured format, or undefined when the entry has none. */
export function renderId(entry: LdapEntry, attribute: string, format: 'uuid' | 'guid' | 'text'): string | undefined {
  switch (format) {
    case 'guid': {
      const bytes = entry.bytes(attribute);
      return bytes && bytes.length === 16 ? formatGuid(bytes) : undefined;
    }
    case 'uuid':
      // entryUUID (RFC 4530) is printed in lowercase hex by slapd; lowercase it in any case.
      return entry.first(attribute)?.toLowerCase();
    case 'text':
      return entry.first(attribute);
  }
}

/** Attributes to ask for as bytes: ldapts matches them by the exact name the server returns. */
export function binaryAttributeNames(names: string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    out.add(n.toLowerCase());
    if (n.toLowerCase() === 'objectguid') out.add('objectGUID');
  }
  return [...out];
}
