import type { ConnectionOptions } from 'node:tls';
import { ResultCodeError } from 'ldapts';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import { classifyLdapError, isDirectoryError, LdapOperationError, LdapUnavailableError, type LdapFailure, type ServerAttempt } from './ldap-errors.js';
import { endpointOf, LdapSession, tlsOptionsFor, type ServerEndpoint } from './ldap-session.js';
import type { LdapSettings } from './ldap-settings.js';

/** What the pool knows about one server of the connection. */
export interface ServerState {
  endpoint: ServerEndpoint;
  /** Position in the configured order (0 = preferred). */
  index: number;
  /** While the clock is before this, the server is tried only when every other one failed too. */
  downUntil: number;
  lastFailure: LdapFailure | undefined;
  lastFailureAt: number | undefined;
}

interface IdleSession {
  session: LdapSession;
  server: ServerState;
  idleSince: number;
}

export interface LdapServerPoolOptions {
  connectionId: string;
  settings: LdapSettings;
  /** The service account's password, opened from its sealed form by the caller. */
  bindPassword: string | undefined;
  clock: Clock;
  logger: Logger;
}

export type UserBindOutcome = { ok: true; server: string } | { ok: false; server: string; failure: LdapFailure };

/**
 * The servers of one LDAP connection and a small pool of service-bound sessions to them.
 *
 * Failover: servers are tried in the configured order; a server that fails (refused, timed out,
 * untrusted certificate, connection lost, busy/unavailable) is marked down for `serverRetryMs` and
 * skipped meanwhile, so later requests go straight to the next one. Once that time has passed it
 * is preferred again, and sessions to lower servers are closed rather than reused: a server that
 * came back is used again. Servers marked down are still tried last, so the connection recovers
 * at once when they are all back. Only when every server failed is the directory unavailable.
 *
 * Reuse: up to `pool.size` idle service sessions are kept (to the preferred server) and reused;
 * under load more are opened and closed after use. A reused session that turns out to be dead
 * (the server restarted) is replaced by a fresh one to the same server before that server is
 * declared down. Password checks never use these sessions: see `bindAsUser`.
 */
export class LdapServerPool {
  readonly servers: ServerState[];
  private readonly tls: Map<string, ConnectionOptions>;
  private idle: IdleSession[] = [];
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: LdapServerPoolOptions) {
    const { settings } = options;
    this.servers = settings.servers.map((url, index) => ({
      endpoint: endpointOf(url, settings),
      index,
      downUntil: 0,
      lastFailure: undefined,
      lastFailureAt: undefined,
    }));
    this.tls = new Map(this.servers.map((s) => [s.endpoint.url, tlsOptionsFor(s.endpoint, settings)]));
    for (const s of this.servers) {
      if (s.endpoint.security === 'plaintext') {
        options.logger.warn({ connection: options.connectionId, server: s.endpoint.url }, 'LDAP server used WITHOUT TLS (dangerouslyAllowPlaintext): passwords cross the network in clear text');
      }
    }
    this.sweeper = setInterval(() => this.sweepIdle(), Math.min(settings.pool.idleMs, 30_000));
    this.sweeper.unref();
  }

  get connectionId(): string {
    return this.options.connectionId;
  }

  get settings(): LdapSettings {
    return this.options.settings;
  }

  /** A session to one server; not bound yet. */
  openSession(server: ServerState): LdapSession {
    return new LdapSession(server.endpoint, this.tls.get(server.endpoint.url)!, this.options.settings.timeouts);
  }

  /** Servers in the order to try now: those not marked down (configured order), then the others. */
  candidates(): ServerState[] {
    const now = this.options.clock.now();
    const up = this.servers.filter((s) => s.downUntil <= now);
    const down = this.servers.filter((s) => s.downUntil > now);
    return [...up, ...down];
  }

  private markDown(server: ServerState, failure: LdapFailure): void {
    const now = this.options.clock.now();
    server.downUntil = now + this.options.settings.serverRetryMs;
    server.lastFailure = failure;
    server.lastFailureAt = now;
    this.options.logger.warn({ connection: this.connectionId, server: server.endpoint.url, failure: failure.detail }, 'LDAP server failed; trying the next one');
  }

  private markUp(server: ServerState): void {
    if (server.downUntil !== 0) {
      this.options.logger.info({ connection: this.connectionId, server: server.endpoint.url }, 'LDAP server answers again');
    }
    server.downUntil = 0;
  }

  private async openServiceSession(server: ServerState): Promise<LdapSession> {
    const session = this.openSession(server);
    const { bindDn } = this.options.settings;
    const password = this.options.bindPassword;
    try {
      if (password) await session.bind(bindDn, password);
      else await session.start();
      return session;
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  private takeIdle(server: ServerState): LdapSession | undefined {
    const now = this.options.clock.now();
    while (true) {
      const i = this.idle.findIndex((s) => s.server === server);
      if (i < 0) return undefined;
      const [entry] = this.idle.splice(i, 1);
      if (entry!.session.usable && now - entry!.idleSince < this.options.settings.pool.idleMs) return entry!.session;
      void entry!.session.close();
    }
  }

  private release(session: LdapSession, server: ServerState): void {
    const preferred = this.candidates()[0];
    if (this.closed || !session.usable || server !== preferred || this.idle.length >= this.options.settings.pool.size) {
      void session.close();
      return;
    }
    // Sessions to servers other than the preferred one are not kept: once it is back, it is used.
    for (const other of this.idle.filter((s) => s.server !== preferred)) void other.session.close();
    this.idle = this.idle.filter((s) => s.server === preferred);
    this.idle.push({ session, server, idleSince: this.options.clock.now() });
  }

  private sweepIdle(): void {
    const now = this.options.clock.now();
    const keep: IdleSession[] = [];
    for (const entry of this.idle) {
      if (entry.session.usable && now - entry.idleSince < this.options.settings.pool.idleMs) keep.push(entry);
      else void entry.session.close();
    }
    this.idle = keep;
  }

  /**
   * Runs `work` with a session bound as the service account, failing over across servers.
   * LDAP results inside `work` (no such object, insufficient access) do not move to another
   * server: they raise LdapOperationError (ldap.search_failed), a refused service bind
   * ldap.service_bind_failed; every server failing raises LdapUnavailableError.
   */
  async withService<T>(work: (session: LdapSession, server: ServerState) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('LDAP server pool is closed');
    const attempts: ServerAttempt[] = [];
    for (const server of this.candidates()) {
      // A reused session first; if it proves dead, one fresh session before giving up the server.
      for (const reuse of [true, false]) {
        let session: LdapSession | undefined;
        let phase: 'bind' | 'work' = 'bind';
        try {
          session = reuse ? this.takeIdle(server) : undefined;
          if (reuse && !session) continue;
          session ??= await this.openServiceSession(server);
          phase = 'work';
          const value = await work(session, server);
          this.markUp(server);
          this.release(session, server);
          return value;
        } catch (error) {
          if (!isDirectoryError(error)) {
            if (session) void session.close();
            throw error;
          }
          const failure = classifyLdapError(error);
          if (!failure.serverFailure) {
            if (session) this.release(session, server);
            this.markUp(server);
            if (phase === 'bind') throw new LdapOperationError('ldap.service_bind_failed', server.endpoint.url, failure);
            if (error instanceof ResultCodeError) throw new LdapOperationError('ldap.search_failed', server.endpoint.url, failure);
            throw error;
          }
          if (session) void session.close();
          // A reused connection that was dropped (server restarted) deserves one fresh try; one
          // that timed out means the server is slow or hung, and a second wait helps nobody.
          if (reuse && failure.kind !== 'timeout') continue;
          this.markDown(server, failure);
          attempts.push({ server: server.endpoint.url, failure });
          break;
        }
      }
    }
    throw new LdapUnavailableError(this.connectionId, attempts);
  }

  /**
   * Checks a person's password: a simple bind as their DN on a fresh session, which is always
   * unbound and closed afterwards (never pooled: it is bound as that person). The server that
   * found the entry is asked first (replicas may lag), then the others in order.
   */
  async bindAsUser(dn: string, password: string, preferred?: string): Promise<UserBindOutcome> {
    if (password === '') throw new Error('refusing an unauthenticated bind (empty password)');
    const attempts: ServerAttempt[] = [];
    const order = this.candidates();
    const first = order.find((s) => s.endpoint.url === preferred);
    for (const server of first ? [first, ...order.filter((s) => s !== first)] : order) {
      const session = this.openSession(server);
      try {
        await session.bind(dn, password);
        this.markUp(server);
        return { ok: true, server: server.endpoint.url };
      } catch (error) {
        if (!isDirectoryError(error)) throw error;
        const failure = classifyLdapError(error);
        if (!failure.serverFailure) {
          this.markUp(server);
          return { ok: false, server: server.endpoint.url, failure };
        }
        this.markDown(server, failure);
        attempts.push({ server: server.endpoint.url, failure });
      } finally {
        await session.close();
      }
    }
    throw new LdapUnavailableError(this.connectionId, attempts);
  }

  /** For diagnostics: each server and whether it is currently skipped. */
  status(): Array<{ server: string; up: boolean; lastFailure?: string | undefined }> {
    const now = this.options.clock.now();
    return this.servers.map((s) => ({ server: s.endpoint.url, up: s.downUntil <= now, lastFailure: s.lastFailure?.detail }));
  }

  /** Idle sessions, for tests and diagnostics. */
  get idleCount(): number {
    return this.idle.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((s) => s.session.close()));
  }
}
