import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import { freePort, portOpen, sleep } from './free-port.js';
import { opensslAvailable, type TestCa } from './test-ca.js';
import { ADMIN_DN, ADMIN_PASSWORD, BASE_DN, SERVICE_DN, SERVICE_PASSWORD, openldapSeed, sshaHash, toLdif, type LdifEntry } from '../fixtures/ldap/openldap-directory.js';

/**
 * A private OpenLDAP slapd for one test file: its own slapd.conf, data directory and TLS
 * certificate (from the test's CA) in a temporary directory, on free loopback ports, ldap://
 * (with StartTLS) and ldaps://, the memberof and ppolicy overlays, loaded with slapadd from the
 * seed LDIF. Started as an ordinary process in the foreground (-d 0) in its own process group,
 * stopped by its pid only. Never the system slapd or /etc/ldap/slapd.d.
 */
export interface Slapd {
  name: string;
  dir: string;
  ldapUrl: string;
  ldapsUrl: string;
  ldapPort: number;
  ldapsPort: number;
  baseDn: string;
  serviceDn: string;
  servicePassword: string;
  /** Stops the server (SIGTERM, then SIGKILL); the data stays, so start() brings the same directory back. */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): it keeps its sockets but answers nothing, like a hung server. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
  /** The server's operation log (one line per operation: BIND, SRCH, EXT, ...). */
  log(): string;
  /** Runs `work` with a client bound as the rootdn over ldap:// (for changes made by tests). */
  asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T>;
}

export interface SlapdOptions {
  ca: TestCa;
  name?: string;
  /** The entries to load (default: the seed of test/fixtures/ldap/openldap-directory.ts). */
  seed?: LdifEntry[];
  /** Make the server certificate for these names instead of 127.0.0.1/localhost (e.g. to test a name mismatch). */
  certificateNames?: { dns?: string[]; ips?: string[] };
}

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const MODULES = '/usr/lib/ldap';

export function slapdAvailable(): { ok: boolean; reason?: string } {
  if (!existsSync(SLAPD) || !existsSync(SLAPADD)) return { ok: false, reason: 'slapd is not installed (Debian packages slapd and ldap-utils)' };
  if (!existsSync(path.join(MODULES, 'memberof.la')) && !existsSync(path.join(MODULES, 'memberof.so'))) {
    return { ok: false, reason: `slapd's memberof overlay is not in ${MODULES}` };
  }
  if (!opensslAvailable()) return { ok: false, reason: 'openssl is not installed (test certificates)' };
  return { ok: true };
}

const running = new Set<ChildProcess>();
// A test that crashes must not leave servers behind (each has its own process group).
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function slapdConf(dir: string, cert: { certPath: string; keyPath: string }, caPath: string): string {
  return `# written by test/helpers/slapd.ts: a private slapd for one test file
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema

pidfile  ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath ${MODULES}
moduleload back_mdb
moduleload memberof
moduleload ppolicy

TLSCertificateFile    ${cert.certPath}
TLSCertificateKeyFile ${cert.keyPath}
TLSCACertificateFile  ${caPath}
TLSVerifyClient never

sizelimit 500

database mdb
maxsize 1073741824
suffix "${BASE_DN}"
rootdn "${ADMIN_DN}"
rootpw ${sshaHash(ADMIN_PASSWORD)}
directory ${dir}/data

index objectClass eq
index uid,cn,mail eq
index member,uniqueMember,memberUid,memberOf eq
index entryUUID eq

limits dn.exact="${SERVICE_DN}" size=unlimited time=unlimited

access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to *
  by users read
  by * none

# memberOf on users and groups (direct membership only: the overlay is not transitive)
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
memberof-dangling ignore

# accounts locked by pwdAccountLockedTime (disabled: 000001010000Z)
overlay ppolicy
ppolicy_default "cn=default,ou=policies,${BASE_DN}"
ppolicy_use_lockout
`;
}

export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  const name = options.name ?? 'slapd';
  const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-${name}-`));
  mkdirSync(path.join(dir, 'data'));
  const cert = options.ca.issue(`${name}-server`, options.certificateNames ?? { ips: ['127.0.0.1'], dns: ['localhost'] });
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, cert, options.ca.certPath));
  const ldif = path.join(dir, 'seed.ldif');
  writeFileSync(ldif, toLdif(options.seed ?? openldapSeed()));
  try {
    // slapadd bypasses overlays: the seed carries memberOf and pwdAccountLockedTime itself.
    execFileSync(SLAPADD, ['-q', '-f', conf, '-l', ldif], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`slapadd failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
  }
  const ldapPort = await freePort();
  const ldapsPort = await freePort();
  const log = path.join(dir, 'slapd.log');
  let child: ChildProcess | undefined;

  const start = async () => {
    const fd = openSync(log, 'a');
    // -d: stay in the foreground (no fork), so the pid is slapd's own; level 256 ("stats") logs one
    // line per operation, which tests read to see which binds reached the server. detached: own process group.
    child = spawn(SLAPD, ['-f', conf, '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`, '-d', '256'], { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    running.add(child);
    const me = child;
    let exited = false;
    me.once('exit', () => {
      exited = true;
      running.delete(me);
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`slapd exited during start:\n${readFileSync(log, 'utf8').slice(-2000)}`);
      if ((await portOpen(ldapPort)) && (await portOpen(ldapsPort))) return;
      await sleep(50);
    }
    throw new Error(`slapd did not listen within 15 s (log ${log})`);
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    process.kill(c.pid!, 'SIGCONT');
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    process.kill(c.pid!, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000)))]);
    clearTimeout(timer);
    if (!killed) {
      process.kill(c.pid!, 'SIGKILL');
      await exited;
    }
  };

  await start();
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  return {
    name,
    dir,
    ldapUrl,
    ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
    ldapPort,
    ldapsPort,
    baseDn: BASE_DN,
    serviceDn: SERVICE_DN,
    servicePassword: SERVICE_PASSWORD,
    stop,
    start,
    pause: () => process.kill(child!.pid!, 'SIGSTOP'),
    resume: () => process.kill(child!.pid!, 'SIGCONT'),
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(log, 'utf8'),
    async asAdmin(work) {
      const client = new Client({ url: ldapUrl, timeout: 5000, connectTimeout: 2000 });
      try {
        await client.bind(ADMIN_DN, ADMIN_PASSWORD);
        return await work(client);
      } finally {
        await client.unbind().catch(() => {});
      }
    },
  };
}
