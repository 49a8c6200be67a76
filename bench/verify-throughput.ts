/**
 * Verifications per second: `gatehouse/verify` (warm JWKS cache) against raw `jose` jwtVerify on
 * the same token and the same remote key set, measured in the same run, alternating rounds.
 *
 *   npm run bench:verify -- [--iterations 20000] [--rounds 8]
 *
 * The token is an RFC 9068 access token signed ES256 as Gatehouse signs them; the key set is
 * served on loopback like a tenant's /jwks. Both sides fetch it once, then verify from memory.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { verify } from 'gatehouse/verify';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '8' },
  },
});
const iterations = Number(args.iterations);
const rounds = Number(args.rounds);

const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-key', alg: 'ES256', use: 'sig' }] };
const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(jwks));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const issuer = `${origin}/t/bench`;
const audience = 'https://api.bench.example';

const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ client_id: 'bench-client', tid: 'bench', scope: 'read write', jti: 'bench-jti' })
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench-key' })
  .setIssuer(issuer)
  .setSubject('bench-client')
  .setAudience(audience)
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);

const remote = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const contenders: Array<{ name: string; run: () => Promise<unknown> }> = [
  { name: 'gatehouse/verify', run: () => verify(token, { issuer, audience, requiredScopes: ['read'] }) },
  { name: 'raw jose jwtVerify', run: () => jwtVerify(token, remote, { issuer, audience }) },
];

async function measure(run: () => Promise<unknown>, n: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await run();
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

// Warm up: the first call of each fetches the key set; JIT settles after a few thousand.
for (const c of contenders) await measure(c.run, 2000);
const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const c of round % 2 === 0 ? contenders : [...contenders].reverse()) rates.get(c.name)!.push(await measure(c.run, iterations));
}
server.close();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const summary = contenders.map((c) => ({ name: c.name, rate: median(rates.get(c.name)!) }));
process.stdout.write(`${rounds} alternating rounds of ${iterations} sequential verifications (ES256), median:\n\n`);
for (const s of summary) process.stdout.write(`${s.name.padEnd(20)} ${s.rate.toFixed(0).padStart(7)} verifications/s   ${(1e6 / s.rate).toFixed(1)} µs each\n`);
process.stdout.write(`\ngatehouse/verify / raw jose: ${((summary[0]!.rate / summary[1]!.rate) * 100).toFixed(1)} % (goal >= 90 %)\n`);
