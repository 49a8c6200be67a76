// The sync under measurement, in a process of its own so that its peak RSS is its own: a fresh
// SQLite store, one tenant, one LDAP connection (OpenLDAP preset, ldaps with the bench CA), a full
// run, then an incremental run with nothing changed. Prints one JSON line.
//
// It runs the compiled code (dist/, `npm run build`), as the Docker image does; with
// `node --import tsx bench/sync/sync-child.mjs <url> <ca> <dir> src` it runs the TypeScript sources.
import path from 'node:path';
import { readFileSync } from 'node:fs';

const [url, caFile, workDir, tree = 'dist'] = process.argv.slice(2);
if (!url || !caFile || !workDir) throw new Error('usage: sync-child.mjs <ldaps url> <ca file> <work dir> [dist|src]');
const root = new URL(`../../${tree}/`, import.meta.url);
const { loadConfig } = await import(new URL('config/load-config.js', root).href);
const { silentLogger } = await import(new URL('logging/logger.js', root).href);
const { createServices } = await import(new URL('services.js', root).href);

const config = loadConfig({
  env: {},
  overrides: {
    database: { url: `sqlite:${path.join(workDir, 'gatehouse.db')}` },
    keys: { dir: path.join(workDir, 'keys') },
    logging: { level: 'silent' },
    demo: { enabled: false },
    maintenance: { purgeIntervalSeconds: 0 },
    sync: { schedulerEnabled: false },
  },
});
const services = createServices(config, silentLogger());
await services.store.migrate();
const operator = { type: 'operator', id: 'bench' };
await services.tenants.create({ id: 'bench', displayName: 'Bench' }, operator);
const store = services.store.forTenant('bench');
await services.ldap.create(
  store,
  {
    id: 'corp',
    preset: 'openldap',
    servers: [url],
    baseDn: 'dc=example,dc=com',
    bindDn: 'cn=svc,dc=example,dc=com',
    bindPassword: 'svc-secret',
    tls: { caCertificates: [readFileSync(caFile, 'utf8')] },
    ...(process.env.BENCH_PAGE_SIZE ? { sync: { pageSize: Number(process.env.BENCH_PAGE_SIZE) } } : {}),
  },
  operator,
);
const rssBefore = process.memoryUsage().rss;
const full = await services.sync.run(store, 'corp', { trigger: 'cli', actor: operator, full: true });
const peakAfterFull = process.resourceUsage().maxRSS * 1024;
const incremental = await services.sync.run(store, 'corp', { trigger: 'cli', actor: operator });
const summary = (r) => ({
  status: r.status,
  reason: r.reason,
  mode: r.mode,
  ms: r.durationMs,
  users: r.report.users,
  groups: r.report.groups,
  memberships: r.report.memberships,
  errors: r.report.errorCount,
  timings: r.report.timings,
});
const changes = await store.directoryChanges.bounds();
process.stdout.write(
  `${JSON.stringify({ full: summary(full), incremental: summary(incremental), rssBeforeBytes: rssBefore, peakRssFullBytes: peakAfterFull, peakRssBytes: process.resourceUsage().maxRSS * 1024, changeFeedEntries: changes.lastSeq })}\n`,
);
await services.close();
