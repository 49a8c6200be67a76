import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig, ConfigError } from '../../src/config/load-config.js';
import { jwksUriProblem, providerFetch } from '../../src/clients/jwks-uri-policy.js';

describe('jwks_uri of apps: https, and loopback only with the development option', () => {
  it('accepts public https URIs and refuses plain http ones, with or without the option', () => {
    for (const allow of [false, true]) {
      expect(jwksUriProblem('https://keys.example.com/jwks', allow)).toBeUndefined();
      expect(jwksUriProblem('http://keys.example.com/jwks', allow)).toMatch(/must use https/);
      expect(jwksUriProblem('https://keys.example.com/jwks#x', allow)).toMatch(/fragment/);
    }
  });

  it('accepts a loopback URI (http or https) only with the option', () => {
    for (const uri of ['http://127.0.0.1:8080/jwks', 'https://localhost/jwks', 'http://[::1]:9/jwks']) {
      expect(jwksUriProblem(uri, false)).toMatch(/loopback host is refused/);
      expect(jwksUriProblem(uri, true)).toBeUndefined();
    }
    expect(jwksUriProblem('http://127.0.0.2/jwks', true)).toMatch(/must use https/); // only the three loopback names
  });

  it('cannot be turned on with an https public URL (a production deployment)', () => {
    expect(() => loadConfig({ env: {}, overrides: { server: { publicUrl: 'https://id.example.com' }, clients: { allowInsecureLoopbackJwksUri: true } } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { server: { publicUrl: 'https://id.example.com' }, clients: { allowInsecureLoopbackJwksUri: true } } })).toThrow(
      /clients\.allowInsecureLoopbackJwksUri: is for development and tests only/,
    );
    expect(loadConfig({ env: {} }).clients.allowInsecureLoopbackJwksUri).toBe(false);
  });
});

describe('the provider\'s outgoing fetch', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  /** Records what would be sent, at our own boundary with the platform's fetch. */
  function recordFetches(): Array<RequestInit | undefined> {
    const seen: Array<RequestInit | undefined> = [];
    globalThis.fetch = (async (_input: string | URL | Request, init?: RequestInit) => {
      seen.push(init);
      return new Response('{}');
    }) as typeof fetch;
    return seen;
  }

  it('keeps oidc-provider\'s SSRF guard for every URL when the option is off, and for non-loopback URLs when it is on', async () => {
    const seen = recordFetches();
    const guard = { name: 'ssrf-guard' };
    await providerFetch(false)('http://127.0.0.1/jwks', { dispatcher: guard } as RequestInit);
    await providerFetch(true)('https://keys.example.com/jwks', { dispatcher: guard } as RequestInit);
    expect(seen.map((init) => (init as { dispatcher?: unknown }).dispatcher)).toEqual([guard, guard]);
  });

  it('drops the guard for loopback URLs only when the option is on', async () => {
    const seen = recordFetches();
    await providerFetch(true)(new URL('http://127.0.0.1:9/jwks'), { dispatcher: { name: 'ssrf-guard' }, method: 'GET' } as RequestInit);
    expect(seen[0]).toEqual({ method: 'GET' });
  });
});
