/**
 * `attributes` and `excludedAttributes` (RFC 7644 3.4.2.5 and 3.9): which attributes a response
 * carries. `id` and `schemas` are always returned; names are case-insensitive and may be fully
 * qualified (`urn:...:User:name.givenName`) or have one sub-attribute (`name.givenName`).
 */
const ALWAYS = new Set(['id', 'schemas']);

function split(name: string, schemaId: string): [string, string | undefined] {
  let n = name;
  if (n.toLowerCase().startsWith(`${schemaId.toLowerCase()}:`)) n = n.slice(schemaId.length + 1);
  const [top, sub] = n.split('.', 2);
  return [top!.toLowerCase(), sub?.toLowerCase()];
}

export function project(resource: Record<string, unknown>, schemaId: string, attributes: string[] | undefined, excluded: string[] | undefined): Record<string, unknown> {
  if (attributes) {
    const wanted = attributes.map((a) => split(a, schemaId));
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      const lower = key.toLowerCase();
      if (ALWAYS.has(lower)) {
        out[key] = value;
        continue;
      }
      const hits = wanted.filter(([top]) => top === lower);
      if (hits.length === 0) continue;
      if (hits.some(([, sub]) => sub === undefined) || !value || typeof value !== 'object') {
        out[key] = value;
        continue;
      }
      const subs = new Set(hits.map(([, sub]) => sub));
      const pick = (o: unknown) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => subs.has(k.toLowerCase())));
      out[key] = Array.isArray(value) ? value.map(pick) : pick(value);
    }
    return out;
  }
  if (excluded) {
    const out = { ...resource };
    for (const [top, sub] of excluded.map((a) => split(a, schemaId))) {
      const key = Object.keys(out).find((k) => k.toLowerCase() === top);
      if (!key || ALWAYS.has(top)) continue;
      if (sub === undefined) delete out[key];
      else if (out[key] && typeof out[key] === 'object') {
        const drop = (o: unknown) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => k.toLowerCase() !== sub));
        out[key] = Array.isArray(out[key]) ? (out[key] as unknown[]).map(drop) : drop(out[key]);
      }
    }
    return out;
  }
  return resource;
}
