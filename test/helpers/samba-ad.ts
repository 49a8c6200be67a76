import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { portOpen, sleep } from './free-port.js';
import { opensslAvailable, type TestCa } from './test-ca.js';
import {
  AD_ADMIN_PASSWORD,
  AD_ADMIN_UPN,
  AD_BASE_DN,
  AD_CONTRACTORS,
  AD_DNS_DOMAIN,
  AD_DOMAIN,
  AD_GROUP_SEED,
  AD_GROUPS,
  AD_LOCKOUT_THRESHOLD,
  AD_PEOPLE,
  AD_REALM,
  AD_USERS,
  adUpn,
  adUserDn,
} from '../fixtures/ldap/active-directory-directory.js';

/**
 * A real Active Directory domain controller (Samba AD DC) for one test file.
 *
 * The domain is provisioned with `samba-tool domain provision --targetdir` (about 10 s), once per
 * machine and Samba version: the result is kept as a template under the temporary directory and
 * copied for each run, so a clean machine provisions and later runs do not. Samba then runs with
 * its own minimal smb.conf (LDAP service only, TLS with a certificate from the test CA), as an
 * ordinary process in its own process group, stopped by its pid. Users and groups are created
 * over LDAPS as Administrator, which is fast and is itself plain AD LDAP.
 *
 * Samba's LDAP ports cannot be configured (389, 636, and 3268/3269 for the global catalog), so
 * only one Samba runs on the machine at a time: start waits for those ports to be free.
 */
export interface SambaAd {
  dir: string;
  ldapUrl: string;
  ldapsUrl: string;
  baseDn: string;
  serviceUpn: string;
  servicePassword: string;
  /** `samba-tool` against this domain's database (for reading facts independently of LDAP code). */
  sambaTool(args: string[]): string;
  asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

const SAMBA = '/usr/sbin/samba';
const SAMBA_PORTS = [389, 636, 3268, 3269];
/** Bump when the provisioning options change, so old templates are not reused. */
const TEMPLATE_FORMAT = 'v1';

function which(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function sambaAvailable(): { ok: boolean; reason?: string } {
  if (!existsSync(SAMBA) || !which('samba-tool')) {
    return { ok: false, reason: 'Samba AD DC is not installed (Debian packages samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind)' };
  }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'Samba AD listens on ports 389/636, which needs root' };
  if (!opensslAvailable()) return { ok: false, reason: 'openssl is not installed (test certificates)' };
  return { ok: true };
}

function sambaVersion(): string {
  return execFileSync(SAMBA, ['-V'], { encoding: 'utf8' }).trim().replace(/[^A-Za-z0-9.+-]+/g, '_');
}

/** The provisioned domain, made once per machine and Samba version (a template copied for each run). */
function provisionedTemplate(log: (line: string) => void): string {
  const template = path.join(tmpdir(), `gatehouse-samba-template-${sambaVersion()}-${TEMPLATE_FORMAT}`);
  if (existsSync(path.join(template, '.complete'))) return template;
  const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-samba-provision-'));
  log(`provisioning the Samba AD test domain in ${work} (once per machine; about 10 seconds)`);
  try {
    execFileSync(
      'samba-tool',
      [
        'domain', 'provision', '--use-rfc2307', `--realm=${AD_REALM}`, `--domain=${AD_DOMAIN}`, '--server-role=dc', '--dns-backend=NONE',
        `--targetdir=${work}`, `--adminpass=${AD_ADMIN_PASSWORD}`, '--host-name=dc1', '--host-ip=127.0.0.1',
        '--option=interfaces=127.0.0.1', '--option=bind interfaces only=yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`samba-tool domain provision failed: ${(error as { stderr?: Buffer }).stderr?.toString().slice(-2000) ?? error}`);
  }
  writeFileSync(path.join(work, '.complete'), new Date().toISOString());
  try {
    renameSync(work, template);
  } catch {
    // Another test run made the template meanwhile: use theirs.
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

function smbConf(dir: string, tls: { certPath: string; keyPath: string; caPath: string }): string {
  return `# written by test/helpers/samba-ad.ts (replaces the one provision wrote)
[global]
	netbios name = DC1
	realm = ${AD_REALM}
	workgroup = ${AD_DOMAIN}
	server role = active directory domain controller
	interfaces = 127.0.0.1
	bind interfaces only = yes
	# only what LDAP clients need: no SMB, DNS, NetBIOS, RPC or Kerberos
	server services = ldap
	# simple binds on ldap:// are allowed (Gatehouse itself uses LDAPS here)
	ldap server require strong auth = no
	idmap_ldb:use rfc2307 = yes
	tls enabled = yes
	tls keyfile = ${tls.keyPath}
	tls certfile = ${tls.certPath}
	tls cafile = ${tls.caPath}
	private dir = ${dir}/private
	state directory = ${dir}/state
	cache directory = ${dir}/cache
	lock directory = ${dir}
	binddns dir = ${dir}/bind-dns
	pid directory = ${dir}/run
	ncalrpc dir = ${dir}/run/ncalrpc
	winbindd socket directory = ${dir}/run/winbindd
	ntp signd socket directory = ${dir}/run/ntp_signd
	log file = ${dir}/log/samba.log
	logging = file
	log level = 1
`;
}

async function waitForFreePorts(timeoutMs: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  while (true) {
    const busy: number[] = [];
    for (const p of SAMBA_PORTS) if (await portOpen(p)) busy.push(p);
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ports ${busy.join(', ')} stay in use (another Samba AD?): only one Samba can run on a machine`);
    if (!told) {
      log(`waiting for ports ${busy.join(', ')} (another Samba AD is running)`);
      told = true;
    }
    await sleep(1000);
  }
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

const FILETIME_UNIX_EPOCH = 116444736000000000n;
const toFileTime = (ms: number) => (BigInt(ms) * 10000n + FILETIME_UNIX_EPOCH).toString();
/** AD durations are negative 100-nanosecond counts. */
const adDuration = (minutes: number) => (-BigInt(minutes) * 60n * 10_000_000n).toString();

async function seed(client: Client): Promise<void> {
  // Lockout after a few wrong passwords, for the locked-out account test.
  await client.modify(AD_BASE_DN, [
    new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutThreshold', values: [String(AD_LOCKOUT_THRESHOLD)] }) }),
    new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutDuration', values: [adDuration(30)] }) }),
    new Change({ operation: 'replace', modification: new Attribute({ type: 'lockOutObservationWindow', values: [adDuration(30)] }) }),
  ]);
  for (const [dn, ou] of [[AD_PEOPLE, 'People'], [AD_GROUPS, 'Groups'], [AD_CONTRACTORS, 'Contractors']] as const) {
    await client.add(dn, { objectClass: ['top', 'organizationalUnit'], ou });
  }
  for (const u of Object.values(AD_USERS)) {
    const attributes = [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'cn', values: [`${u.givenName} ${u.sn}`] }),
      new Attribute({ type: 'sAMAccountName', values: [u.sAMAccountName] }),
      new Attribute({ type: 'userPrincipalName', values: [adUpn(u)] }),
      new Attribute({ type: 'givenName', values: [u.givenName] }),
      new Attribute({ type: 'sn', values: [u.sn] }),
      new Attribute({ type: 'displayName', values: [`${u.givenName} ${u.sn}`] }),
      new Attribute({ type: 'mail', values: [`${u.sAMAccountName}@${AD_DNS_DOMAIN}`] }),
      new Attribute({ type: 'telephoneNumber', values: ['+1 555 0200'] }),
      // [MS-ADTS] 3.1.1.3.1.5.1: the password as a quoted UTF-16LE string, over an encrypted connection.
      new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${u.password}"`, 'utf16le')] }),
      new Attribute({ type: 'userAccountControl', values: [String(u.userAccountControl)] }),
      ...(u.expiresInDays ? [new Attribute({ type: 'accountExpires', values: [toFileTime(Date.now() + u.expiresInDays * 86_400_000)] })] : []),
    ];
    await client.add(adUserDn(u), attributes);
  }
  for (const g of AD_GROUP_SEED) {
    await client.add(g.dn, { objectClass: ['top', 'group'], cn: /^CN=([^,]+)/.exec(g.dn)![1]!, sAMAccountName: g.sAMAccountName, member: g.members });
  }
}

export async function startSambaAd(options: { ca: TestCa; log?: (line: string) => void }): Promise<SambaAd> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[samba-ad] ${line}\n`));
  const template = provisionedTemplate(log);
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-samba-'));
  cpSync(template, dir, { recursive: true });
  for (const sub of ['run', 'log', 'cache', 'etc']) mkdirSync(path.join(dir, sub), { recursive: true });
  const cert = options.ca.issue('samba-dc', { dns: [`dc1.${AD_DNS_DOMAIN}`, 'localhost'], ips: ['127.0.0.1'] });
  const conf = path.join(dir, 'etc', 'smb.conf');
  writeFileSync(conf, smbConf(dir, { ...cert, caPath: options.ca.certPath }));
  await waitForFreePorts(180_000, log);

  const logFile = path.join(dir, 'log', 'samba.stdout');
  const fd = openSync(logFile, 'a');
  // -F: foreground, so the pid is the master's; it takes its workers down with it.
  // detached (own process group) plus --no-process-group: Samba signals its group when it leads one.
  const child = spawn(SAMBA, ['-s', conf, '-F', '--no-process-group'], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });

  const ldapsUrl = 'ldaps://127.0.0.1:636';
  const asAdmin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url: ldapsUrl, tlsOptions: { ca: [options.ca.certPem] }, timeout: 15_000, connectTimeout: 2000 });
    try {
      await client.bind(AD_ADMIN_UPN, AD_ADMIN_PASSWORD);
      return await work(client);
    } finally {
      await client.unbind().catch(() => {});
    }
  };

  const stop = async () => {
    if (!exited) {
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid!, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))]);
      clearTimeout(timer);
      if (!ok) {
        process.kill(child.pid!, 'SIGKILL');
        await done;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 60_000;
    while (true) {
      if (exited) throw new Error(`samba exited during start:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
      try {
        await asAdmin(async () => {});
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`Samba AD did not answer on LDAPS within 60 s: ${(error as Error).message}`);
        await sleep(200);
      }
    }
    await asAdmin(seed);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    dir,
    ldapUrl: 'ldap://127.0.0.1:389',
    ldapsUrl,
    baseDn: AD_BASE_DN,
    serviceUpn: adUpn(AD_USERS.svc),
    servicePassword: AD_USERS.svc.password,
    sambaTool: (args) => execFileSync('samba-tool', [...args, '-s', conf, '-H', path.join(dir, 'private', 'sam.ldb')], { encoding: 'utf8' }),
    asAdmin,
    stop,
  };
}
