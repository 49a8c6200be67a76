import type { Context } from 'koa';
import { GatehouseError } from '../../errors/gatehouse-error.js';

/**
 * Reads an `application/x-www-form-urlencoded` body (the HTTP-POST binding, [SAMLBind] 3.5.4),
 * up to `limitBytes`. No body parser runs globally (oidc-provider parses its own), so the SAML
 * routes read theirs here.
 */
export async function readUrlEncodedForm(ctx: Context, limitBytes: number): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new GatehouseError('saml.unsupported_media_type', 'the SAML HTTP-POST binding sends application/x-www-form-urlencoded', { status: 415 });
  }
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limitBytes) throw new GatehouseError('saml.body_too_large', `the request body is larger than ${limitBytes} bytes`, { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new GatehouseError('saml.body_too_large', `the request body is larger than ${limitBytes} bytes`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
