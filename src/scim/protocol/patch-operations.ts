import { z } from 'zod';
import { parsePatchPath, type PatchPath } from './patch-path.js';
import { matchesValueFilter } from './value-filter.js';
import { findAttribute, keyOf, type AttributeDef, type SchemaDef } from './schema-model.js';
import { scimError } from './scim-error.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A PATCH request body (RFC 7644 3.5.2). `op` is matched case-insensitively: Entra sends "Replace". */
export const patchRequestSchema = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(PATCH_OP_SCHEMA), { message: `schemas must contain ${PATCH_OP_SCHEMA}` }),
  Operations: z
    .array(
      z.object({
        op: z.string().transform((o) => o.toLowerCase()).pipe(z.enum(['add', 'remove', 'replace'])),
        path: z.string().optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(1000),
});
export type PatchRequest = z.infer<typeof patchRequestSchema>;
type Operation = PatchRequest['Operations'][number];

type Json = Record<string, unknown>;

const noTarget = (message: string) => scimError('scim.no_target', 'noTarget', message);
const invalidPath = (message: string) => scimError('scim.invalid_path', 'invalidPath', message);
const invalidValue = (message: string) => scimError('scim.invalid_value', 'invalidValue', message);
const mutability = (message: string) => scimError('scim.mutability', 'mutability', message);

/** Where an operation lands: a top-level attribute of the core schema (extensions are ignored). */
interface Target {
  def: AttributeDef;
  key: string;
  pp: PatchPath;
}

function resolve(schema: SchemaDef, extensionUrns: string[], text: string): Target | 'ignored' {
  const pp = parsePatchPath(text);
  if (pp.path.urn !== undefined && pp.path.urn !== schema.id.toLowerCase()) {
    // Attributes of extension schemas we do not keep (e.g. the enterprise user) are accepted and dropped.
    if (extensionUrns.includes(pp.path.urn) || pp.path.urn.startsWith('urn:ietf:params:scim:schemas:extension:')) return 'ignored';
    throw invalidPath(`"${text}" names a schema this resource does not have`);
  }
  const def = findAttribute(schema.attributes, pp.path.attr);
  if (!def) throw invalidPath(`"${text}" is not an attribute of ${schema.name}`);
  if (pp.path.sub !== undefined && !findAttribute(def.subAttributes, pp.path.sub)) throw invalidPath(`"${text}" is not an attribute of ${schema.name}`);
  if (pp.filter && !def.multiValued) throw invalidPath(`"${text}": a value filter needs a multi-valued attribute`);
  if (pp.subAfterFilter !== undefined && !findAttribute(def.subAttributes, pp.subAfterFilter)) throw invalidPath(`"${text}" is not an attribute of ${schema.name}`);
  if (def.mutability === 'readOnly') throw mutability(`"${def.name}" is read-only`);
  return { def, key: def.name, pp };
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** Two values of a multi-valued attribute are the same when their `value` is (RFC 7644 3.5.2.1). */
function sameValue(a: unknown, b: unknown): boolean {
  const va = a && typeof a === 'object' ? (a as Json)[keyOf(a as Json, 'value') ?? 'value'] : a;
  const vb = b && typeof b === 'object' ? (b as Json)[keyOf(b as Json, 'value') ?? 'value'] : b;
  return va !== undefined && JSON.stringify(va) === JSON.stringify(vb);
}

function get(resource: Json, name: string): unknown {
  const key = keyOf(resource, name);
  return key === undefined ? undefined : resource[key];
}

function set(resource: Json, name: string, value: unknown): void {
  const key = keyOf(resource, name);
  if (key !== undefined && key !== name) delete resource[key];
  if (value === undefined) delete resource[name];
  else resource[name] = value;
}

function mergeComplex(current: unknown, value: unknown, def: AttributeDef): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(`"${def.name}" takes an object`);
  const merged: Json = current && typeof current === 'object' ? { ...(current as Json) } : {};
  for (const [k, v] of Object.entries(value as Json)) {
    const sub = findAttribute(def.subAttributes, k);
    if (!sub) throw invalidValue(`"${k}" is not an attribute of "${def.name}"`);
    set(merged, sub.name, v);
  }
  return merged;
}

function applyAdd(resource: Json, t: Target, value: unknown): void {
  if (value === undefined) throw invalidValue('"add" needs a value');
  const { def, pp } = t;
  if (pp.filter) return applyToMatches(resource, t, value, 'add');
  if (pp.path.sub !== undefined) {
    set(resource, def.name, mergeComplex(get(resource, def.name), { [pp.path.sub]: value }, def));
    return;
  }
  if (def.multiValued) {
    const current = asArray(get(resource, def.name));
    const additions = asArray(value).filter((v) => !current.some((c) => sameValue(c, v)));
    set(resource, def.name, [...current, ...additions]);
    return;
  }
  set(resource, def.name, def.type === 'complex' ? mergeComplex(get(resource, def.name), value, def) : value);
}

function applyReplace(resource: Json, t: Target, value: unknown): void {
  if (value === undefined) throw invalidValue('"replace" needs a value');
  const { def, pp } = t;
  if (pp.filter) return applyToMatches(resource, t, value, 'replace');
  if (pp.path.sub !== undefined) {
    set(resource, def.name, mergeComplex(get(resource, def.name), { [pp.path.sub]: value }, def));
    return;
  }
  if (def.multiValued) {
    set(resource, def.name, asArray(value));
    return;
  }
  // RFC 7644 3.5.2.3: replacing a complex attribute replaces the sub-attributes given and keeps the others.
  set(resource, def.name, def.type === 'complex' ? mergeComplex(get(resource, def.name), value, def) : value);
}

function applyRemove(resource: Json, t: Target, value: unknown): void {
  const { def, pp } = t;
  if (pp.filter) return applyToMatches(resource, t, undefined, 'remove');
  if (pp.path.sub !== undefined) {
    const current = get(resource, def.name);
    if (current && typeof current === 'object') {
      const copy = { ...(current as Json) };
      const key = keyOf(copy, pp.path.sub);
      if (key !== undefined) delete copy[key];
      set(resource, def.name, copy);
    }
    return;
  }
  if (def.multiValued && value !== undefined) {
    // Not in RFC 7644 but sent by Microsoft Entra: remove the listed values ({"path": "members", "value": [{"value": "id"}]}).
    const removals = asArray(value);
    set(resource, def.name, asArray(get(resource, def.name)).filter((c) => !removals.some((r) => sameValue(c, r))));
    return;
  }
  set(resource, def.name, undefined);
}

/** Operations on the values a value filter selects (RFC 7644 3.5.2.1-3.5.2.3). */
function applyToMatches(resource: Json, t: Target, value: unknown, op: 'add' | 'replace' | 'remove'): void {
  const { def, pp } = t;
  const current = asArray(get(resource, def.name));
  const matches = current.map((element) => matchesValueFilter(element, pp.filter!));
  if (!matches.some(Boolean)) {
    // Replacing nothing is an error (3.5.2.3); removing nothing is already the wanted state.
    if (op === 'remove') return;
    throw noTarget(`no value of "${def.name}" matches the filter`);
  }
  const next: unknown[] = [];
  current.forEach((element, i) => {
    if (!matches[i]) return void next.push(element);
    if (op === 'remove') {
      if (pp.subAfterFilter === undefined) return;
      const copy = { ...(element as Json) };
      const key = keyOf(copy, pp.subAfterFilter);
      if (key !== undefined) delete copy[key];
      next.push(copy);
      return;
    }
    if (pp.subAfterFilter !== undefined) next.push(mergeComplex(element, { [pp.subAfterFilter]: value }, def));
    else next.push(op === 'replace' && def.type !== 'complex' ? value : mergeComplex(op === 'replace' ? {} : element, value, def));
  });
  set(resource, def.name, next);
}

/**
 * Applies PATCH operations, in order, to a copy of the resource's SCIM representation; the
 * resource mapper then checks the result and turns it into a directory change. Either every
 * operation applies or none does (RFC 7644 3.5.2: the PATCH is atomic).
 */
export function applyPatch(resource: Json, request: PatchRequest, schema: SchemaDef, extensionUrns: string[] = []): Json {
  const result: Json = structuredClone(resource);
  for (const operation of request.Operations) applyOperation(result, operation, schema, extensionUrns);
  return result;
}

function applyOperation(resource: Json, operation: Operation, schema: SchemaDef, extensionUrns: string[]): void {
  if (operation.path === undefined || operation.path === '') {
    if (operation.op === 'remove') throw noTarget('"remove" needs a path');
    const value = operation.value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(`"${operation.op}" without a path takes an object of attributes`);
    for (const [name, v] of Object.entries(value as Json)) {
      // An extension schema's attributes come as one object under its URN: not kept.
      if (name.toLowerCase().startsWith('urn:') && !name.toLowerCase().startsWith(`${schema.id.toLowerCase()}:`)) continue;
      if (name.toLowerCase() === 'schemas') continue;
      // A client that sends a read-only attribute back unchanged (the id) is not changing it.
      const readOnly = findAttribute(schema.attributes, name);
      if (readOnly?.mutability === 'readOnly' && JSON.stringify(get(resource, readOnly.name)) === JSON.stringify(v)) continue;
      const target = resolve(schema, extensionUrns, name);
      if (target === 'ignored') continue;
      if (operation.op === 'add') applyAdd(resource, target, v);
      else applyReplace(resource, target, v);
    }
    return;
  }
  const target = resolve(schema, extensionUrns, operation.path);
  if (target === 'ignored') return;
  if (operation.op === 'add') applyAdd(resource, target, operation.value);
  else if (operation.op === 'replace') applyReplace(resource, target, operation.value);
  else applyRemove(resource, target, operation.value);
}
