import type { Context } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.js';

/** Forms of the pages are small; anything larger is refused before it is buffered. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body, refusing it (413) beyond `limit` bytes
 * before buffering more. Only Gatehouse's own routes call this (pages, a SAML partner's
 * HTTP-POST binding): bodies of requests for oidc-provider are left for the provider to read.
 */
export async function readUrlEncoded(ctx: Context, limit = MAX_FORM_BYTES): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new GatehouseError('http.unsupported_media_type', 'the form must be sent as application/x-www-form-urlencoded', { status: 415 });
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new GatehouseError('http.body_too_large', `the request body is larger than ${limit} bytes`, { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new GatehouseError('http.body_too_large', `the request body is larger than ${limit} bytes`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A page's form as a record of fields. */
export async function readForm(ctx: Context, limit = MAX_FORM_BYTES): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  for (const [k, v] of await readUrlEncoded(ctx, limit)) {
    // A repeated field keeps its first value: no form of ours repeats a field.
    if (!(k in fields)) fields[k] = v;
  }
  return fields;
}
