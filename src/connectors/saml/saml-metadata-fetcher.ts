import { GatehouseError } from '../../errors/gatehouse-error.js';
import { assertPublicDestination } from '../../http/outbound-guard.js';

/** Fetches a partner's metadata document. An interface so that tests and other transports can replace it. */
export interface MetadataFetcher {
  fetch(url: string): Promise<string>;
}

/** Metadata of one IdP is a few KB; federation aggregates can be tens of MB and are not supported. */
const MAX_METADATA_BYTES = 2 * 1024 * 1024;
/** A partner's slow metadata server must not hold a CLI command or the maintenance loop for long. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Plain `fetch`, with a timeout, a size limit and no redirects followed: a redirect could lead
 * from the https URL an administrator checked to somewhere else. A URL that resolves to a private
 * or loopback address is refused unless the installation allows it (SSRF).
 */
export function httpMetadataFetcher(options: { allowPrivateNetworks: boolean }): MetadataFetcher {
  return {
  async fetch(url) {
    await assertPublicDestination(url, options.allowPrivateNetworks);
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    } catch (cause) {
      throw new GatehouseError('saml.metadata_unreachable', `metadata URL ${url} could not be fetched: ${(cause as Error).message}`, { status: 502, expose: true, cause });
    }
    if (response.status !== 200) {
      throw new GatehouseError('saml.metadata_unreachable', `metadata URL ${url} answered HTTP ${response.status}`, { status: 502, expose: true });
    }
    const tooLarge = () => new GatehouseError('saml.metadata_invalid', `metadata at ${url} is larger than ${MAX_METADATA_BYTES} bytes`);
    if (Number(response.headers.get('content-length') ?? '0') > MAX_METADATA_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.length;
      if (size > MAX_METADATA_BYTES) {
        await reader!.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(Buffer.from(next.value));
    }
    return Buffer.concat(chunks).toString('utf8');
  },
};
}
