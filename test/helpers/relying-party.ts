import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface ReceivedLogin {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  claims: oidc.IDToken;
}

export interface TestRelyingParty {
  url: string;
  redirectUri: string;
  backchannelLogoutUri: string;
  postLogoutRedirectUri: string;
  config(): oidc.Configuration;
  logins: ReceivedLogin[];
  errors: Array<{ error: string; description?: string | undefined }>;
  logoutTokens: JWTPayload[];
  logoutStates: string[];
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

const page = (title: string, content: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${content}</body></html>`;

/**
 * A real app for browser tests: openid-client does the authorization code flow with PKCE, state
 * and nonce; the app receives back-channel logout tokens and verifies them with the issuer's JWKS.
 * GET /login takes extra authorization parameters from its query (prompt, max_age, login_hint,
 * response_mode, ...) and `method=post` to send the request by POST.
 */
export async function startRelyingParty(options: { issuer: string; clientId: string; clientSecret?: string | undefined; scope?: string }): Promise<TestRelyingParty> {
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const logins: ReceivedLogin[] = [];
  const errors: TestRelyingParty['errors'] = [];
  const logoutTokens: JWTPayload[] = [];
  const logoutStates: string[] = [];
  let configuration: oidc.Configuration | undefined;
  let base = '';

  const getConfig = async () => {
    configuration ??= await oidc.discovery(
      new URL(options.issuer),
      options.clientId,
      options.clientSecret,
      options.clientSecret ? oidc.ClientSecretBasic(options.clientSecret) : oidc.None(),
      { execute: [oidc.allowInsecureRequests] },
    );
    return configuration;
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url!, base);
      if (url.pathname === '/login') {
        const config = await getConfig();
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const params: Record<string, string> = {
          redirect_uri: `${base}/callback`,
          scope: options.scope ?? 'openid profile email',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        };
        for (const [k, v] of url.searchParams) if (k !== 'method') params[k] = v;
        const target = oidc.buildAuthorizationUrl(config, params);
        if (url.searchParams.get('method') === 'post') {
          const endpoint = `${target.origin}${target.pathname}`;
          const inputs = [...target.searchParams].map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(page('Redirecting', `<form method="post" action="${endpoint}">${inputs}<button id="go" type="submit">Continue</button></form>`));
          return;
        }
        res.writeHead(302, { location: target.href });
        res.end();
        return;
      }
      if (url.pathname === '/callback') {
        const config = await getConfig();
        let current: URL | Request = url;
        let params = url.searchParams;
        if (req.method === 'POST') {
          const body = await readBody(req);
          params = new URLSearchParams(body);
          current = new Request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        }
        if (params.get('error')) {
          errors.push({ error: params.get('error')!, description: params.get('error_description') ?? undefined });
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(page('App error', `<pre id="error">${params.get('error')}</pre>`));
          return;
        }
        const state = params.get('state') ?? '';
        const expected = pending.get(state);
        if (!expected) throw new Error('unknown state');
        pending.delete(state);
        const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: expected.verifier, expectedState: state, expectedNonce: expected.nonce });
        const claims = tokens.claims()!;
        logins.push({ tokens, claims });
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page('App home', `<p id="signed-in">${claims.sub}</p>`));
        return;
      }
      if (url.pathname === '/backchannel-logout' && req.method === 'POST') {
        const body = new URLSearchParams(await readBody(req));
        const jwks = createRemoteJWKSet(new URL(`${options.issuer}/jwks`));
        // OIDC Back-Channel Logout 1.0, section 2.6: a signed logout token for this app.
        const { payload } = await jwtVerify(body.get('logout_token') ?? '', jwks, { issuer: options.issuer, audience: options.clientId, typ: 'logout+jwt' });
        if (!(payload.events as Record<string, unknown> | undefined)?.['http://schemas.openid.net/event/backchannel-logout']) throw new Error('no logout event');
        if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
        logoutTokens.push(payload);
        res.writeHead(200);
        res.end();
        return;
      }
      if (url.pathname === '/signed-out') {
        logoutStates.push(url.searchParams.get('state') ?? '');
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page('Signed out of the app', `<p id="signed-out">${url.searchParams.get('state') ?? ''}</p>`));
        return;
      }
      res.writeHead(404);
      res.end();
    } catch (error) {
      errors.push({ error: 'rp_error', description: (error as Error).message });
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(page('App failure', `<pre id="rp-failure">${(error as Error).message}</pre>`));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    redirectUri: `${base}/callback`,
    backchannelLogoutUri: `${base}/backchannel-logout`,
    postLogoutRedirectUri: `${base}/signed-out`,
    config: () => configuration!,
    logins,
    errors,
    logoutTokens,
    logoutStates,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
