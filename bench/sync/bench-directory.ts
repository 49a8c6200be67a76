import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, portOpen, sleep } from '../../test/helpers/free-port.js';
import type { TestCa } from '../../test/helpers/test-ca.js';

/**
 * The benchmark's directory: a private slapd (own config, data and port, as in the tests'
 * helper) bulk-loaded with slapadd from a generated LDIF, streamed to disk so that even the
 * generator never holds the directory in memory.
 *
 * Shape: `users` inetOrgPerson entries (uid, cn, sn, givenName, displayName, mail,
 * telephoneNumber, employeeNumber) under ou=people, and `groups` groupOfNames under ou=groups,
 * user i in group (i-1) mod groups (so 1,000 groups of 100 for 100,000 users), and the first ten
 * groups each holding ten others (nested groups). Entries carry modifyTimestamps spread over
 * the past days, as in a directory whose entries changed at different times: a fresh slapadd
 * would stamp them all with the second of loading, and an incremental run started right after
 * the full run re-reads the entries changed within a margin below the latest change (all of
 * them then; see ldap-change-marks.ts).
 */
export const BASE_DN = 'dc=example,dc=com';
export const SERVICE_DN = `cn=svc,${BASE_DN}`;
export const SERVICE_PASSWORD = 'svc-secret';
const ADMIN_DN = `cn=admin,${BASE_DN}`;

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const userDn = (i: number) => `uid=user${pad(i, 6)},ou=people,${BASE_DN}`;
export const groupDn = (k: number) => `cn=grp-${pad(k, 4)},ou=groups,${BASE_DN}`;

async function writeLdif(file: string, users: number, groups: number): Promise<void> {
  const out = createWriteStream(file);
  // Entries last changed over the past days, two seconds apart, oldest first, as in a directory
  // that has lived (see the note above).
  const base = Date.now() - 3 * 86_400_000;
  const times = (n: number) => {
    const d = new Date(base + n * 2000);
    const t = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
    return `createTimestamp: ${t}\nmodifyTimestamp: ${t}\n`;
  };
  let buf = '';
  const flush = async (force = false) => {
    if (!force && buf.length < 1 << 20) return;
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
    buf = '';
  };
  buf += `dn: ${BASE_DN}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: Example Corp\ndc: example\n\n`;
  buf += `dn: ${SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: svc\nuserPassword: ${SERVICE_PASSWORD}\n\n`;
  buf += `dn: ou=people,${BASE_DN}\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,${BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n\n`;
  for (let i = 1; i <= users; i++) {
    const uid = `user${pad(i, 6)}`;
    buf +=
      `dn: ${userDn(i)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: Synthetic User ${i}\ngivenName: Synthetic\nsn: User${i}\n` +
      `displayName: Synthetic User ${i}\nmail: ${uid}@bulk.example.com\ntelephoneNumber: +1 555 ${pad(i % 10000, 4)}\nemployeeNumber: ${100000 + i}\n${times(i)}\n`;
    await flush();
  }
  for (let k = 0; k < groups; k++) {
    buf += `dn: ${groupDn(k)}\nobjectClass: groupOfNames\ncn: grp-${pad(k, 4)}\n${times(users + k + 1)}`;
    for (let i = k + 1; i <= users; i += groups) buf += `member: ${userDn(i)}\n`;
    if (k < 10) for (let j = 0; j < 10 && 10 + k * 10 + j < groups; j++) buf += `member: ${groupDn(10 + k * 10 + j)}\n`;
    buf += '\n';
    await flush();
  }
  await flush(true);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function slapdConf(dir: string, cert: { certPath: string; keyPath: string }, caPath: string): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile  ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile    ${cert.certPath}
TLSCertificateKeyFile ${cert.keyPath}
TLSCACertificateFile  ${caPath}
TLSVerifyClient never
sizelimit 500
database mdb
maxsize 4294967296
suffix "${BASE_DN}"
rootdn "${ADMIN_DN}"
rootpw admin-secret
directory ${dir}/data
index objectClass eq
index uid,cn,mail eq
index member eq
index entryUUID eq
# incremental runs filter on (modifyTimestamp>=...)
index modifyTimestamp eq
limits dn.exact="${SERVICE_DN}" size=unlimited time=unlimited
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
`;
}

export interface BenchDirectory {
  ldapsUrl: string;
  /** Seconds: LDIF generation and slapadd. */
  loadSeconds: number;
  stop(): Promise<void>;
}

export async function startBenchDirectory(dir: string, ca: TestCa, users: number, groups: number): Promise<BenchDirectory> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const cert = ca.issue('bench-slapd', { ips: ['127.0.0.1'], dns: ['localhost'] });
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, cert, ca.certPath));
  const ldif = path.join(dir, 'bulk.ldif');
  const t0 = performance.now();
  await writeLdif(ldif, users, groups);
  // -q: no consistency checks (fast bulk load, about 10 s for 100,000 entries).
  execFileSync('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', ldif], { stdio: ['ignore', 'ignore', 'pipe'] });
  const loadSeconds = (performance.now() - t0) / 1000;
  const port = await freePort();
  const log = path.join(dir, 'slapd.log');
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', conf, '-h', `ldaps://127.0.0.1:${port}/`, '-d', '0'], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`slapd exited: ${readFileSync(log, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error('slapd did not listen within 20 s');
    await sleep(50);
  }
  return {
    ldapsUrl: `ldaps://127.0.0.1:${port}`,
    loadSeconds,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
