import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestCa } from '../../test/helpers/test-ca.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, startBenchDirectory } from './bench-directory.js';

/**
 * Directory sync benchmark (issue 8): a full sync of USERS users and GROUPS groups from a slapd
 * loaded with slapadd, beside a plain paged ldapsearch of the same entries in the same run (the
 * baseline: what reading the directory costs at all), then an incremental run with no changes.
 *
 *   npm run bench:sync                      # 100,000 users, 1,000 groups
 *   BENCH_USERS=20000 BENCH_GROUPS=200 npm run bench:sync
 *
 * Goals: full sync at most 2x the paged search, peak RSS of the sync process under 300 MB,
 * incremental run under a tenth of the full run. The sync runs in a child process so that its
 * peak RSS (getrusage maxrss) is its own, on the compiled code (`npm run build` first).
 */
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 1_000);
const here = path.dirname(fileURLToPath(import.meta.url));

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${stderr || error.message}`));
      else resolve({ stdout, ms: performance.now() - t0 });
    });
  });
}

/** ldapsearch with RFC 2696 paging, writing LDIF to /dev/null: the cost of reading the entries the sync reads. */
async function pagedSearch(url: string, caPath: string): Promise<number> {
  const t0 = performance.now();
  const out = openSync('/dev/null', 'w');
  const child = spawn(
    'ldapsearch',
    ['-x', '-LLL', '-H', url, '-D', SERVICE_DN, '-w', SERVICE_PASSWORD, '-b', BASE_DN, '-E', 'pr=1000/noprompt', '(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))', '*', 'entryUUID', 'modifyTimestamp'],
    { env: { ...process.env, LDAPTLS_CACERT: caPath }, stdio: ['ignore', out, 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  closeSync(out);
  if (code !== 0) throw new Error(`ldapsearch exited with ${code}`);
  return performance.now() - t0;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-sync-'));
try {
  const ca = createTestCa(path.join(dir, 'ca'));
  process.stderr.write(`loading ${USERS.toLocaleString('en-US')} users and ${GROUPS.toLocaleString('en-US')} groups with slapadd...\n`);
  const directory = await startBenchDirectory(path.join(dir, 'slapd'), ca, USERS, GROUPS);
  try {
    process.stderr.write(`loaded in ${directory.loadSeconds.toFixed(1)} s; paged ldapsearch (baseline)...\n`);
    await pagedSearch(directory.ldapsUrl, ca.certPath); // warm slapd's caches as the sync will find them
    const raw = await pagedSearch(directory.ldapsUrl, ca.certPath);
    process.stderr.write(`baseline ${fmt(raw)}; full sync and an incremental run in a child process...\n`);
    // The compiled code (as the Docker image runs it): tsx would add its own memory and time.
    await run('npm', ['run', '--silent', 'build']);
    const child = await run(process.execPath, [path.join(here, 'sync-child.mjs'), directory.ldapsUrl, ca.certPath, dir]);
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    const objects = r.full.users.read + r.full.groups.read;
    const lines = [
      `directory sync benchmark: ${USERS.toLocaleString('en-US')} users, ${GROUPS.toLocaleString('en-US')} groups (slapd, ldaps, SQLite store)`,
      `  paged ldapsearch (baseline)   ${fmt(raw)}`,
      `  full sync                     ${fmt(r.full.ms)}  ratio ${(r.full.ms / raw).toFixed(2)}x (goal <= 2x)  ${Math.round((objects * 1000) / r.full.ms).toLocaleString('en-US')} objects/s`,
      `      ${r.full.users.created} users, ${r.full.groups.created} groups, ${r.full.memberships.added} memberships created; ${r.changeFeedEntries} change-feed entries; errors ${r.full.errors}; status ${r.full.status}`,
      `  peak RSS of the sync process  ${mb(r.peakRssFullBytes)} (goal < 300 MB; ${mb(r.rssBeforeBytes)} before the run)`,
      `      phases (ms): ${JSON.stringify(r.full.timings)}`,
      `  incremental, no changes       ${fmt(r.incremental.ms)}  ratio ${(r.incremental.ms / r.full.ms).toFixed(3)} of the full run (goal < 0.1); ${r.incremental.mode}, read ${r.incremental.users.read} users ${r.incremental.groups.read} groups, status ${r.incremental.status}`,
      `      phases (ms): ${JSON.stringify(r.incremental.timings)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await directory.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
