import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import { readPassword } from '../read-password.js';
import type { LdapConnectionRecord } from '../../connectors/ldap/ldap-connection-service.js';
import type { ServerCheck } from '../../connectors/ldap/ldap-connection-check.js';
import { splitPemCertificates, type LdapConnectionPatch } from '../../connectors/ldap/ldap-settings.js';
import { LDAP_PRESETS } from '../../connectors/ldap/ldap-presets.js';

function certificateSummary(pem: string) {
  return splitPemCertificates(pem).map((block) => {
    const cert = new X509Certificate(block);
    return { subject: cert.subject.replace(/\n/g, ', '), validTo: new Date(cert.validTo).toISOString(), sha256: createHash('sha256').update(cert.raw).digest('hex') };
  });
}

export const ldapConnectionView = (c: LdapConnectionRecord) => ({
  id: c.id,
  displayName: c.displayName,
  position: c.position,
  enabled: c.enabled,
  preset: c.settings.preset,
  servers: c.settings.servers,
  baseDn: c.settings.baseDn,
  bindDn: c.settings.bindDn,
  hasBindPassword: c.hasBindPassword,
  tls: {
    caCertificates: c.settings.tls.caCertificates.flatMap(certificateSummary),
    serverName: c.settings.tls.serverName,
    minVersion: c.settings.tls.minVersion,
  },
  dangerouslyAllowPlaintext: c.settings.dangerouslyAllowPlaintext,
  users: c.settings.users,
  attributes: c.settings.attributes,
  groups: c.settings.groups,
  roles: c.settings.roles,
  accountStatus: c.settings.accountStatus,
  timeouts: c.settings.timeouts,
  pool: c.settings.pool,
  serverRetryMs: c.settings.serverRetryMs,
  sync: c.settings.sync,
  declaredInConfig: Boolean(c.settings.declared),
  createdAt: isoTime(c.createdAt),
  updatedAt: isoTime(c.updatedAt),
});

interface ConnectionOptions {
  name?: string;
  preset?: string;
  server: string[];
  baseDn?: string;
  bindDn?: string;
  bindPasswordStdin?: boolean;
  caFile: string[];
  tlsServerName?: string;
  dangerouslyAllowPlaintext?: boolean;
  position?: string;
  role: string[];
  set: string[];
  enable?: boolean;
  disable?: boolean;
}

/** `--set users.filter=(objectClass=person)`: a dotted path and a value (JSON when it parses as JSON). */
function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new CliUsageError(`--set takes path=value, e.g. groups.nested=none (got "${assignment}")`);
  const path = assignment.slice(0, eq).split('.');
  if (path.some((p) => !/^[A-Za-z][A-Za-z0-9]*$/.test(p))) throw new CliUsageError(`--set: "${assignment.slice(0, eq)}" is not a settings path`);
  const text = assignment.slice(eq + 1);
  let value: unknown = text;
  if (/^(?:-?\d+(?:\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(text)) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new CliUsageError(`--set ${path.join('.')}: ${text} is not valid JSON`);
    }
  }
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** `--role "cn=admins,ou=groups,dc=example,dc=com=admin"`: the role follows the last "=". */
function parseRole(value: string): { group: string; role: string } {
  const eq = value.lastIndexOf('=');
  if (eq <= 0) throw new CliUsageError(`--role takes <group DN>=<role> (got "${value}")`);
  return { group: value.slice(0, eq), role: value.slice(eq + 1) };
}

async function settingsFromOptions(opts: ConnectionOptions): Promise<LdapConnectionPatch> {
  const patch: Record<string, unknown> = {};
  if (opts.name !== undefined) patch.displayName = opts.name;
  if (opts.preset !== undefined) patch.preset = opts.preset;
  if (opts.server.length) patch.servers = opts.server;
  if (opts.baseDn !== undefined) patch.baseDn = opts.baseDn;
  if (opts.bindDn !== undefined) patch.bindDn = opts.bindDn;
  if (opts.position !== undefined) {
    if (!/^\d+$/.test(opts.position)) throw new CliUsageError('--position is a whole number');
    patch.position = Number(opts.position);
  }
  if (opts.enable && opts.disable) throw new CliUsageError('give --enable or --disable, not both');
  if (opts.enable) patch.enabled = true;
  if (opts.disable) patch.enabled = false;
  if (opts.dangerouslyAllowPlaintext) patch.dangerouslyAllowPlaintext = true;
  if (opts.caFile.length || opts.tlsServerName !== undefined) {
    const tls: Record<string, unknown> = {};
    if (opts.caFile.length) {
      tls.caCertificates = opts.caFile.map((file) => {
        try {
          return readFileSync(file, 'utf8');
        } catch (error) {
          throw new CliUsageError(`cannot read --ca-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
      });
    }
    if (opts.tlsServerName !== undefined) tls.serverName = opts.tlsServerName;
    patch.tls = tls;
  }
  if (opts.role.length) patch.roles = opts.role.map(parseRole);
  for (const assignment of opts.set) applySet(patch, assignment);
  if (opts.bindPasswordStdin) patch.bindPassword = await readPassword('Bind password: ');
  return patch as LdapConnectionPatch;
}

function connectionOptions(command: Command, forUpdate: boolean): Command {
  command
    .option('--name <name>', 'display name (shown to admins)')
    .option('--preset <preset>', `${LDAP_PRESETS.join(' or ')}${forUpdate ? ' (replaces the user, attribute and group settings)' : ' (default openldap), or custom'}`)
    .option('--server <url>', 'ldaps://host[:port], or ldap://host[:port] (StartTLS); tried in the order given (repeatable)', collect, [])
    .option('--base-dn <dn>', 'where users and groups are searched, e.g. dc=example,dc=com')
    .option('--bind-dn <dn>', 'the service account: a DN, or on AD svc@example.com')
    .option('--bind-password-stdin', 'read the service account\'s password from standard input (stored encrypted)')
    .option('--ca-file <pem>', 'CA certificate(s) that issue the servers\' certificates (repeatable; default: the system\'s CAs)', collect, [])
    .option('--tls-server-name <name>', 'the name the server certificate carries, when it differs from the URL\'s host')
    .option('--dangerously-allow-plaintext', 'use ldap:// servers WITHOUT TLS: passwords cross the network in clear text')
    .option('--position <n>', 'sign-in order among the tenant\'s connections (lowest first)')
    .option('--role <dn=role>', 'map a group (by DN) to a role, e.g. "cn=admins,ou=groups,dc=example,dc=com=admin" (repeatable; replaces the list)', collect, [])
    .option('--set <path=value>', 'any other setting, e.g. groups.nested=none or timeouts.connectMs=1000 (repeatable)', collect, []);
  if (forUpdate) command.option('--enable', 'offer this connection at sign-in').option('--disable', 'stop offering this connection at sign-in');
  else command.option('--disable', 'create it disabled');
  return command;
}

function renderChecks(connection: string, checks: ServerCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.server} (${c.security})`);
    for (const s of c.steps) lines.push(`  ${s.status.padEnd(8)} ${s.step.padEnd(13)} ${`${s.ms} ms`.padStart(8)}  ${s.detail}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `${connection}: all ${checks.length} server${checks.length === 1 ? '' : 's'} passed` : `${connection}: ${failed} of ${checks.length} server${checks.length === 1 ? '' : 's'} failed`);
  return lines.join('\n');
}

export function registerLdapCommands(program: Command): void {
  const ldap = program.command('ldap').description('LDAP and Active Directory connections of a tenant (sign-in with directory passwords)');

  connectionOptions(ldap.command('add <tenant> <connection>'), false)
    .description('add a connection; with a preset only servers, base DN and service account are needed')
    .action(async (tenantId: string, id: string, opts: ConnectionOptions, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const patch = await settingsFromOptions(opts);
        const created = await s.ldap.create(store, { ...patch, id, ...(opts.disable ? { enabled: false } : {}) }, operatorActor());
        out.result(ldapConnectionView(created), () =>
          [
            `added LDAP connection ${created.id} to tenant ${tenantId} (${created.settings.preset}, ${created.settings.servers.join(', ')})`,
            ...(created.hasBindPassword ? [] : ['  no bind password: searches will be anonymous (give --bind-password-stdin)']),
            ...(created.settings.dangerouslyAllowPlaintext ? ['  WARNING: plaintext LDAP allowed: passwords cross the network in clear text'] : []),
            `  check it with: gatehouse ldap test ${tenantId} ${created.id} --user <name>`,
          ].join('\n'),
        );
      }),
    );

  ldap
    .command('list <tenant>')
    .description('list the connections in sign-in order')
    .action(async (tenantId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.ldap.list(await tenantStore(s, tenantId));
        out.result(all.map(ldapConnectionView), () =>
          all.length
            ? table(['ID', 'POSITION', 'ENABLED', 'PRESET', 'SERVERS', 'NAME'], all.map((c) => [c.id, c.position, c.enabled ? 'yes' : 'no', c.settings.preset, c.settings.servers.join(','), c.displayName]))
            : 'no LDAP connections',
        );
      }),
    );

  ldap
    .command('show <tenant> <connection>')
    .description('show one connection (never its bind password)')
    .action(async (tenantId: string, id: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const v = ldapConnectionView(await s.ldap.get(await tenantStore(s, tenantId), id));
        out.result(v, () => Object.entries(v).map(([k, val]) => `${k.padEnd(26)} ${typeof val === 'object' && val !== null ? JSON.stringify(val) : String(val ?? '-')}`).join('\n'));
      }),
    );

  connectionOptions(ldap.command('update <tenant> <connection>'), true)
    .description('change a connection; only the options given change')
    .action(async (tenantId: string, id: string, opts: ConnectionOptions, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const patch = await settingsFromOptions(opts);
        if (Object.keys(patch).length === 0) throw new CliUsageError('nothing to change: give at least one option');
        const updated = await s.ldap.update(store, id, patch, operatorActor());
        out.result(ldapConnectionView(updated), () => `updated LDAP connection ${id} (${Object.keys(patch).map((k) => (k === 'bindPassword' ? 'bind password' : k)).join(', ')})`);
      }),
    );

  ldap
    .command('remove <tenant> <connection>')
    .description('remove a connection; its users stay in the tenant directory but can no longer sign in through it')
    .action(async (tenantId: string, id: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        await s.ldap.remove(await tenantStore(s, tenantId), id, operatorActor());
        out.result({ removed: id }, () => `removed LDAP connection ${id}`);
      }),
    );

  ldap
    .command('test <tenant> <connection>')
    .description('check each server in turn: reachability, TLS, service bind, user search, group lookup (exits 1 when a server fails)')
    .option('--user <name>', 'search this person (as they would type their name) and look up their groups')
    .action(async (tenantId: string, id: string, opts: { user?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const checks = await s.ldap.check(await tenantStore(s, tenantId), id, { user: opts.user });
        const ok = checks.every((c) => c.ok);
        out.result({ connection: id, ok, servers: checks }, () => renderChecks(id, checks));
        if (!ok) process.exitCode = 1;
      }),
    );
}
