import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { FilterParser } from 'ldapts';
import { classifyLdapError, LdapTimeoutError } from './ldap-errors.js';
import { GroupLookup } from './ldap-group-lookup.js';
import { endpointOf, LdapSession, tlsOptionsFor, type ServerEndpoint, type ServerSecurity } from './ldap-session.js';
import { userBaseDn, type LdapSettings } from './ldap-settings.js';
import { searchUser } from './ldap-user-search.js';
import { mapUserEntry } from './ldap-user-mapping.js';

export type CheckStepName = 'reachability' | 'tls' | 'service bind' | 'user search' | 'group lookup';
export type CheckStatus = 'ok' | 'failed' | 'skipped' | 'insecure';

export interface CheckStep {
  step: CheckStepName;
  status: CheckStatus;
  ms: number;
  detail: string;
}

export interface ServerCheck {
  server: string;
  security: ServerSecurity;
  ok: boolean;
  steps: CheckStep[];
}

export interface CheckOptions {
  /** Search this person (what they would type) and look up their groups. */
  user?: string | undefined;
}

/** A step's outcome before timing is added. */
type Outcome = { status: CheckStatus; detail: string };

function failed(error: unknown): Outcome {
  return { status: 'failed', detail: classifyLdapError(error).detail };
}

async function timed(step: CheckStepName, work: () => Promise<Outcome>): Promise<CheckStep> {
  const start = performance.now();
  let outcome: Outcome;
  try {
    outcome = await work();
  } catch (error) {
    outcome = failed(error);
  }
  return { step, ...outcome, ms: Math.round(performance.now() - start) };
}

function withDeadline<T>(ms: number, what: string, work: (done: (value: T) => void, fail: (error: unknown) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => {};
    const timer = setTimeout(() => {
      cleanup();
      reject(new LdapTimeoutError('connect', ms, what));
    }, ms);
    cleanup = work(
      (v) => {
        clearTimeout(timer);
        cleanup();
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        cleanup();
        reject(e);
      },
    );
  });
}

function tcpCheck(endpoint: ServerEndpoint, ms: number): Promise<Outcome> {
  return withDeadline<Outcome>(ms, 'TCP connect', (done, fail) => {
    const socket = netConnect(endpoint.port, endpoint.host);
    socket.once('connect', () => done({ status: 'ok', detail: `TCP connection to ${endpoint.host}:${endpoint.port}` }));
    socket.once('error', fail);
    return () => socket.destroy();
  });
}

function ldapsCheck(endpoint: ServerEndpoint, settings: LdapSettings): Promise<Outcome> {
  return withDeadline<Outcome>(settings.timeouts.connectMs, 'TLS handshake', (done, fail) => {
    const socket = tlsConnect({ ...tlsOptionsFor(endpoint, settings), port: endpoint.port, host: endpoint.host });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const subject = cert.subject?.CN ?? JSON.stringify(cert.subject);
      const issuer = cert.issuer?.CN ?? JSON.stringify(cert.issuer);
      done({ status: 'ok', detail: `${socket.getProtocol()}, certificate "${subject}" issued by "${issuer}", valid until ${new Date(cert.valid_to).toISOString()}` });
    });
    socket.once('error', fail);
    return () => socket.destroy();
  });
}

/**
 * `gatehouse ldap test`: each server in turn, step by step (reachability, TLS, service bind, user
 * search, group lookup), with each step's result and time. A step that fails skips the rest for
 * that server; the other servers are still checked. No password of a person is involved.
 */
export async function checkConnection(settings: LdapSettings, bindPassword: string | undefined, options: CheckOptions = {}): Promise<ServerCheck[]> {
  const results: ServerCheck[] = [];
  for (const url of settings.servers) {
    const endpoint = endpointOf(url, settings);
    const steps: CheckStep[] = [];
    const session = new LdapSession(endpoint, tlsOptionsFor(endpoint, settings), settings.timeouts);
    const skipRest = (names: CheckStepName[], why: string) => names.forEach((step) => steps.push({ step, status: 'skipped', ms: 0, detail: why }));
    try {
      const reach = await timed('reachability', () => tcpCheck(endpoint, settings.timeouts.connectMs));
      steps.push(reach);
      if (reach.status === 'failed') {
        skipRest(['tls', 'service bind', 'user search', 'group lookup'], 'server not reachable');
        results.push({ server: url, security: endpoint.security, ok: false, steps });
        continue;
      }
      const tls = await timed('tls', async () => {
        if (endpoint.security === 'ldaps') return ldapsCheck(endpoint, settings);
        if (endpoint.security === 'plaintext') return { status: 'insecure', detail: 'NO TLS: dangerouslyAllowPlaintext is set, passwords cross the network in clear text' };
        await session.start();
        return { status: 'ok', detail: `StartTLS (RFC 4513 §3) accepted; certificate verified for ${settings.tls.serverName ?? endpoint.host}` };
      });
      steps.push(tls);
      if (tls.status === 'failed') {
        skipRest(['service bind', 'user search', 'group lookup'], 'no trusted TLS connection');
        results.push({ server: url, security: endpoint.security, ok: false, steps });
        continue;
      }
      const bind = await timed('service bind', async () => {
        if (!bindPassword) {
          await session.start();
          return { status: 'skipped', detail: 'no bind password: searching anonymously' };
        }
        await session.bind(settings.bindDn, bindPassword);
        return { status: 'ok', detail: `bound as ${settings.bindDn}` };
      });
      steps.push(bind);
      if (bind.status === 'failed') {
        skipRest(['user search', 'group lookup'], 'service bind failed');
        results.push({ server: url, security: endpoint.security, ok: false, steps });
        continue;
      }
      let userEntry: Awaited<ReturnType<typeof searchUser>> | undefined;
      const search = await timed('user search', async () => {
        if (!options.user) {
          const found = await session.search(userBaseDn(settings), { scope: settings.users.scope, filter: FilterParser.parseString(settings.users.filter), attributes: ['1.1'], sizeLimit: 1 });
          return found.length
            ? { status: 'ok', detail: `users found under ${userBaseDn(settings)} (give --user NAME to search one)` }
            : { status: 'failed', detail: `no entry under ${userBaseDn(settings)} matches ${settings.users.filter}` };
        }
        userEntry = await searchUser(session, settings, options.user);
        if (userEntry.kind === 'none') return { status: 'failed', detail: `no entry matches "${options.user}" (${settings.users.loginAttributes.join(' or ')})` };
        if (userEntry.kind === 'ambiguous') return { status: 'failed', detail: `"${options.user}" matches ${userEntry.count} entries` };
        const mapped = mapUserEntry(userEntry.entry, settings);
        if (!mapped) return { status: 'failed', detail: `${userEntry.entry.dn} has no ${settings.attributes.id} or ${settings.attributes.username}` };
        return { status: 'ok', detail: `${mapped.dn} (${settings.attributes.id} ${mapped.externalId}, username ${mapped.username})` };
      });
      steps.push(search);
      const groups = await timed('group lookup', async () => {
        if (!options.user) return { status: 'skipped', detail: 'no --user given' };
        if (search.status !== 'ok' || userEntry?.kind !== 'found') return { status: 'skipped', detail: 'user not found' };
        if (settings.groups.mode === 'none') return { status: 'skipped', detail: 'group lookup is off (groups.mode none)' };
        const { groups: found, truncated } = await new GroupLookup(settings).groupsOf(session, userEntry.entry);
        const shown = found.slice(0, 5).map((g) => g.dn);
        return {
          status: 'ok',
          detail: `${found.length} group${found.length === 1 ? '' : 's'} (${settings.groups.nested === 'in-chain' ? 'nesting resolved by the directory' : `${found.filter((g) => g.depth > 0).length} through nesting`})${shown.length ? `: ${shown.join('; ')}${found.length > 5 ? '; ...' : ''}` : ''}${truncated ? ' (nesting cut at groups.maxDepth)' : ''}`,
        };
      });
      steps.push(groups);
      results.push({ server: url, security: endpoint.security, ok: steps.every((s) => s.status !== 'failed'), steps });
    } finally {
      await session.close();
    }
  }
  return results;
}
