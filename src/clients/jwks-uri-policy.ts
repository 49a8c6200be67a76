/**
 * Where an app's public keys (`jwks_uri`, for private_key_jwt, RFC 7523) may live, and how the
 * provider fetches them.
 *
 * In production a jwks_uri is an https URL on a public host: oidc-provider fetches it through a
 * dispatcher that refuses to connect to special-use addresses (loopback, private ranges), so an
 * app cannot make Gatehouse probe its internal network (SSRF). Development setups and tests serve
 * keys on 127.0.0.1; `clients.allowInsecureLoopbackJwksUri` lets exactly those through, and only
 * those: every other host keeps the https rule and the SSRF guard.
 */

/** Loopback host names as URL.hostname spells them (IPv6 keeps its brackets). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** Why this jwks_uri cannot be registered, or undefined when it can. */
export function jwksUriProblem(uri: string, allowInsecureLoopback: boolean): string | undefined {
  if (!URL.canParse(uri)) return 'a jwks_uri is an absolute URL';
  const url = new URL(uri);
  if (url.hash) return 'a jwks_uri must not have a fragment';
  if (isLoopbackUrl(url)) {
    if (!['http:', 'https:'].includes(url.protocol)) return 'a jwks_uri is an http(s) URL';
    if (allowInsecureLoopback) return undefined;
    return 'a jwks_uri on a loopback host is refused (clients.allowInsecureLoopbackJwksUri allows it, for development and tests only)';
  }
  if (url.protocol !== 'https:') return 'a jwks_uri must use https';
  return undefined;
}

type ProviderFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * oidc-provider's outgoing `fetch` (apps' jwks_uri, back-channel logout). oidc-provider passes
 * its SSRF-guarding undici dispatcher in `init.dispatcher`; it is dropped for loopback URLs when
 * the development option is on, and for every URL when the installation allows callbacks into
 * private networks.
 */
export function providerFetch(allowInsecureLoopback: boolean, allowPrivateNetworks = false): ProviderFetch {
  return (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (allowPrivateNetworks || (allowInsecureLoopback && URL.canParse(href) && isLoopbackUrl(new URL(href)))) {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(input, rest);
    }
    return globalThis.fetch(input, init);
  };
}
