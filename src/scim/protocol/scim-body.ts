import type { Context } from 'koa';
import { scimError } from './scim-error.js';

export const SCIM_MEDIA_TYPE = 'application/scim+json';

/** A group with thousands of members is a large body; anything beyond this is refused unread. */
export const MAX_SCIM_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads a SCIM request body (RFC 7644 3.1: `application/scim+json`; `application/json` is
 * accepted too, as most clients send it). Malformed JSON is `invalidSyntax` (RFC 7644 3.12).
 */
export async function readScimBody(ctx: Context): Promise<unknown> {
  if (!ctx.is(SCIM_MEDIA_TYPE, 'application/json')) {
    throw scimError('scim.unsupported_media_type', undefined, `send the body as ${SCIM_MEDIA_TYPE}`, 415);
  }
  const declared = Number(ctx.get('content-length') || 0);
  const tooLarge = () => scimError('scim.body_too_large', undefined, `the body is larger than ${MAX_SCIM_BODY_BYTES} bytes`, 413);
  if (declared > MAX_SCIM_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_SCIM_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw scimError('scim.invalid_syntax', 'invalidSyntax', 'the body is not valid JSON');
  }
}

/** A resource body must be a JSON object that names the resource's schema (RFC 7643 3). */
export function requireResourceBody(body: unknown, schemaId: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw scimError('scim.invalid_syntax', 'invalidSyntax', 'the body must be a JSON object');
  const schemas = (body as Record<string, unknown>).schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === schemaId.toLowerCase())) {
    throw scimError('scim.invalid_syntax', 'invalidSyntax', `"schemas" must contain ${schemaId}`);
  }
  return body as Record<string, unknown>;
}
