/**
 * The baseline of bench/token-endpoint.ts: a bare oidc-provider configured like a Gatehouse
 * tenant for the client-credentials grant (same ES256 key, RFC 9068 JWT access tokens with an
 * audience and a `tid` claim, resource indicators, client_secret_basic) with its default
 * in-memory adapter and nothing in front of it. Run by the benchmark in its own process.
 *
 * Environment: PORT, BENCH_JWK (the private ES256 JWK), BENCH_CLIENT_ID, BENCH_SECRET, BENCH_API.
 */
import { createServer } from 'node:http';
import Provider, { type ResourceServer } from 'oidc-provider';

const port = Number(process.env.PORT);
const api = process.env.BENCH_API!;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [JSON.parse(process.env.BENCH_JWK!)] },
  clients: [
    {
      client_id: process.env.BENCH_CLIENT_ID!,
      client_secret: process.env.BENCH_SECRET!,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => api,
      useGrantedResource: () => true,
      getResourceServerInfo: (): ResourceServer => ({
        scope: 'read',
        audience: api,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  extraTokenClaims: () => ({ tid: 'bench' }),
});

const server = createServer(provider.callback()).listen(port, '127.0.0.1', () => process.stdout.write(`bare oidc-provider on ${issuer}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
