import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { runCli } from '../helpers/cli.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

describe('gatehouse start', () => {
  it('refuses an invalid configuration, listing every problem, and exits non-zero', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-badconf-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: -1\n  publicUrl: ftp://x\ntokens:\n  accessTokenTtl: 5\nunknownSection: {}\n');
    const result = await runCli(['start', '--config', file], { env: { DATABASE_URL: 'mysql://nope', LOG_LEVEL: 'info' } });
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid configuration (5 problems)');
    for (const key of ['server.port', 'server.publicUrl', 'tokens.accessTokenTtl', 'unknown key "unknownSection"', 'database.url']) expect(result.stderr).toContain(key);
    expect(result.stderr).toContain('(from environment variable DATABASE_URL)');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops gracefully on SIGTERM: a request in flight completes, then the process exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-term-'));
    const server = await startServerProcess({ DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), GATEHOUSE_DEMO: 'true' });
    try {
      // A slow request: the first request of a tenant builds its provider; start it, then signal.
      const inFlight = fetch(`${server.url}/t/demo/.well-known/openid-configuration`);
      await new Promise((r) => setTimeout(r, 5));
      const exit = server.stop('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await exit).toBe(0);
      expect(server.output()).toContain('shutting down');
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    } finally {
      await server.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const pg = await postgresAvailable();
describeWhen(pg, 'two server processes on one PostgreSQL database', () => {
  const API = 'https://api.shared.test';
  let database: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;
  const secret = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'gh-two-'));
    env = { DATABASE_URL: database.url, GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn', SHARED_SECRET: secret };
    // Process A creates the tenant from its configuration; process B has no declarations at all.
    const declared = path.join(dir, 'a.yaml');
    writeFileSync(
      declared,
      [
        'tenants:',
        '  - id: shared',
        '    displayName: Shared Inc',
        '    resources: [{ identifier: "https://api.shared.test", scopes: [read] }]',
        '    clients:',
        '      - clientId: worker',
        '        grantTypes: [client_credentials]',
        '        secret: ${SHARED_SECRET}',
        '        resources: [{ resource: "https://api.shared.test", scopes: [read] }]',
      ].join('\n'),
    );
    a = await startServerProcess(env, ['--config', declared]);
    b = await startServerProcess(env);
  }, 60000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = async (server: ServerProcess, clientId: string, clientSecret: string) => {
    const config = await oidc.discovery(new URL(`${server.url}/t/shared`), clientId, clientSecret, oidc.ClientSecretBasic(clientSecret), { execute: [oidc.allowInsecureRequests] });
    return (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
  };

  it('both serve the tenant that one of them created, with the same keys', async () => {
    const fromA = await token(a, 'worker', secret);
    const fromB = await token(b, 'worker', secret);
    // Each process has its own issuer URL (its own port); the keys are the tenant's, shared.
    const jwksA = (await (await fetch(`${a.url}/t/shared/jwks`)).json()) as { keys: unknown[] };
    const jwksB = (await (await fetch(`${b.url}/t/shared/jwks`)).json()) as { keys: unknown[] };
    expect(jwksB).toEqual(jwksA);
    await jwtVerify(fromA, createRemoteJWKSet(new URL(`${b.url}/t/shared/jwks`)), { audience: API });
    await jwtVerify(fromB, createRemoteJWKSet(new URL(`${a.url}/t/shared/jwks`)), { audience: API });
  });

  it('drops a changed app from its client cache on the next request: a rotated secret stops working in both processes', async () => {
    const cliEnv = { ...env, LOG_LEVEL: 'silent' };
    const created = await runCli(['client', 'create', 'shared', '--id', 'rotating', '--grant', 'client_credentials', '--resource', `${API}=read`, '--json'], { env: cliEnv });
    const oldSecret = created.json().clientSecret as string;
    await token(a, 'rotating', oldSecret); // both processes now hold the app in their cache
    await token(b, 'rotating', oldSecret);
    const rotated = await runCli(['client', 'rotate-secret', 'shared', 'rotating', '--json'], { env: cliEnv });
    const newSecret = rotated.json().clientSecret as string;
    for (const server of [a, b]) {
      await expect(token(server, 'rotating', oldSecret)).rejects.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
      await expect(token(server, 'rotating', newSecret)).resolves.toEqual(expect.any(String));
    }
  });

  it('sees a change made elsewhere on its next request: a new app, a suspension, a key rotation', async () => {
    const cliEnv = { ...env, LOG_LEVEL: 'silent' };
    const created = await runCli(['client', 'create', 'shared', '--id', 'late', '--grant', 'client_credentials', '--resource', `${API}=read`, '--json'], { env: cliEnv });
    expect(created.code).toBe(0);
    const lateSecret = created.json().clientSecret as string;
    await token(a, 'late', lateSecret);
    await token(b, 'late', lateSecret);

    expect((await runCli(['tenant', 'suspend', 'shared'], { env: cliEnv })).code).toBe(0);
    expect((await fetch(`${a.url}/t/shared/jwks`)).status).toBe(403);
    expect((await fetch(`${b.url}/t/shared/jwks`)).status).toBe(403);
    expect((await runCli(['tenant', 'resume', 'shared'], { env: cliEnv })).code).toBe(0);

    const rotated = await runCli(['keys', 'rotate', 'shared', '--json'], { env: cliEnv });
    const newKids = rotated.json().added.map((k: { kid: string }) => k.kid) as string[];
    for (const server of [a, b]) {
      const kids = ((await (await fetch(`${server.url}/t/shared/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining(newKids));
    }
  });
});
