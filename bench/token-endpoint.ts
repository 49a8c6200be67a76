/**
 * Client-credentials tokens per second: Gatehouse against a bare oidc-provider configured the
 * same way (same ES256 key, RFC 9068 JWT access tokens with an audience and a tid claim,
 * client_secret_basic), measured in the same run with autocannon and printed as rates, ratio,
 * p50 and p99 latency. Each server runs in its own process; the load generator runs here.
 *
 *   npm run bench:tokens -- [--duration 10] [--connections 10] [--rounds 2] [--log-level info]
 *   BENCH_PROF=1 npm run bench:tokens   # also writes V8 CPU profiles of both servers to /tmp/ghprof/{gh,bare}
 *
 * Gatehouse runs as `gatehouse start` (SQLite in a temporary directory, logging at --log-level to
 * /dev/null), with every request going through the whole edge: request id and log line, tenant
 * resolution (one tenant row read), the tenant's provider, client lookup, secret digest check,
 * the token, and its audit event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { loadConfig } from '../src/config/load-config.js';
import { silentLogger } from '../src/logging/logger.js';
import { createServices } from '../src/services.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TENANT = 'bench';
const CLIENT_ID = 'bench-client';
const API = 'https://api.bench.example';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const rounds = Number(args.rounds);

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function startProcess(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitFor(url: string, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(url, init)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A tenant with an API and a service client, created through Gatehouse's own services; returns the secret and the tenant's ES256 key. */
async function prepareGatehouse(env: Record<string, string>): Promise<{ secret: string; jwk: JWK }> {
  const services = createServices(loadConfig({ env }), silentLogger());
  try {
    await services.store.migrate();
    const operator = { type: 'operator' as const, id: 'bench' };
    await services.tenants.create({ id: TENANT, displayName: 'Benchmark' }, operator);
    const store = services.store.forTenant(TENANT);
    await services.resources.upsert(store, { identifier: API, scopes: ['read'] }, operator);
    const { secret } = await services.clients.create(store, { clientId: CLIENT_ID, grantTypes: ['client_credentials'], resources: [{ resource: API, scopes: ['read'] }] }, operator);
    const { keys } = await services.keys.providerJwks(store);
    const jwk = keys.find((k) => k.alg === 'ES256' && !k.key_ops);
    if (!jwk || !secret) throw new Error('benchmark tenant has no ES256 key or secret');
    return { secret, jwk };
  } finally {
    await services.close();
  }
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  process: ChildProcess;
}

/**
 * CPU seconds (user + system) a process has used, from /proc (Linux; clock ticks of 10 ms). On a
 * machine shared with other work, throughput moves with the neighbours' load; the CPU time a
 * server spends per token does much less, so it is reported too.
 */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface Run {
  result: Result;
  /** Server CPU microseconds per token, when /proc is there. */
  cpuPerToken: number | undefined;
}

async function load(target: Target, seconds: number): Promise<Run> {
  const before = cpuSeconds(target.process.pid);
  const result = await autocannon({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections, duration: seconds, pipelining: 1 });
  const after = cpuSeconds(target.process.pid);
  const cpuPerToken = before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / result.requests.total;
  return { result, cpuPerToken };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
  const children: ChildProcess[] = [];
  try {
    const [ghPort, barePort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'gatehouse.db')}`,
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64'),
      GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'),
      GATEHOUSE_DEMO: 'false',
      PUBLIC_URL: `http://127.0.0.1:${ghPort}`,
      LOG_LEVEL: args['log-level']!,
    };
    const { secret, jwk } = await prepareGatehouse({ ...env, LOG_LEVEL: 'silent' });

    const gatehouse = startProcess([...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/ghprof/gh'] : []), 'bin/gatehouse.js', 'start'], { ...env, PORT: String(ghPort), HOST: '127.0.0.1' });
    const bare = startProcess([...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/ghprof/bare'] : []), '--import', 'tsx', 'bench/bare-oidc-provider.ts'], {
        PORT: String(barePort),
        BENCH_JWK: JSON.stringify(jwk),
        BENCH_CLIENT_ID: CLIENT_ID,
        BENCH_SECRET: secret,
        BENCH_API: API,
      });
    children.push(gatehouse, bare);
    const headers = {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'read' }).toString();
    const targets: Target[] = [
      { name: 'Gatehouse', url: `http://127.0.0.1:${ghPort}/t/${TENANT}/token`, headers, body, process: gatehouse },
      { name: 'bare oidc-provider', url: `http://127.0.0.1:${barePort}/token`, headers, body, process: bare },
    ];

    // Both issue the same kind of token: same key, same algorithm, same claims.
    for (const target of targets) {
      await waitFor(target.url.replace(/\/token$/, '/jwks'));
      const res = await fetch(target.url, { method: 'POST', headers, body });
      const token = ((await res.json()) as { access_token?: string }).access_token;
      if (!token) throw new Error(`${target.name} issued no token (HTTP ${res.status})`);
      const header = decodeProtectedHeader(token);
      const claims = decodeJwt(token);
      process.stdout.write(`${target.name.padEnd(20)} ${header.alg} kid=${header.kid} typ=${header.typ} claims=${Object.keys(claims).sort().join(',')}\n`);
    }

    process.stdout.write(`\nwarming up (3 s each), then ${rounds} alternating round(s) of ${duration} s with ${connections} connections...\n`);
    for (const target of targets) await load(target, 3);
    const results = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const run = await load(target, duration);
        const { non2xx, errors, timeouts } = run.result;
        if (non2xx || errors || timeouts) throw new Error(`${target.name}: ${non2xx} non-2xx, ${errors} errors, ${timeouts} timeouts`);
        results.get(target.name)!.push(run);
      }
    }

    const mean = (runs: Run[], pick: (r: Run) => number | undefined) => {
      const values = runs.map(pick);
      return values.some((v) => v === undefined) ? undefined : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    };
    const summary = targets.map((t) => {
      const runs = results.get(t.name)!;
      return {
        name: t.name,
        rate: mean(runs, (r) => r.result.requests.average)!,
        p50: mean(runs, (r) => r.result.latency.p50)!,
        p99: mean(runs, (r) => r.result.latency.p99)!,
        cpu: mean(runs, (r) => r.cpuPerToken),
      };
    });
    process.stdout.write('\n');
    for (const s of summary) {
      const cpu = s.cpu === undefined ? '' : `   server CPU ${s.cpu.toFixed(0)} µs/token`;
      process.stdout.write(`${s.name.padEnd(20)} ${s.rate.toFixed(0).padStart(7)} tokens/s   p50 ${s.p50.toFixed(1)} ms   p99 ${s.p99.toFixed(1)} ms${cpu}\n`);
    }
    const [gh, baseline] = summary as [(typeof summary)[0], (typeof summary)[0]];
    process.stdout.write(`\nGatehouse / bare oidc-provider, tokens per second: ${((gh.rate / baseline.rate) * 100).toFixed(1)} % (goal >= 90 %)\n`);
    if (gh.cpu !== undefined && baseline.cpu !== undefined) {
      process.stdout.write(`Gatehouse / bare oidc-provider, tokens per CPU second: ${((baseline.cpu / gh.cpu) * 100).toFixed(1)} %\n`);
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
