import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Client, ResultCodeError, type Entry, type SearchOptions } from 'ldapts';
import { LdapConnectionLostError, LdapTimeoutError } from './ldap-errors.js';
import { splitPemCertificates, type LdapSettings } from './ldap-settings.js';

/** How a server is reached: TLS from the start, StartTLS (RFC 4513 §3), or (only when allowed) in clear. */
export type ServerSecurity = 'ldaps' | 'starttls' | 'plaintext';

export interface ServerEndpoint {
  url: string;
  security: ServerSecurity;
  host: string;
  port: number;
}

export function endpointOf(url: string, settings: Pick<LdapSettings, 'dangerouslyAllowPlaintext'>): ServerEndpoint {
  const parsed = new URL(url);
  const ldaps = parsed.protocol === 'ldaps:';
  return {
    url,
    security: ldaps ? 'ldaps' : settings.dangerouslyAllowPlaintext ? 'plaintext' : 'starttls',
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : ldaps ? 636 : 389,
  };
}

/**
 * TLS options for a server: verification always on (rejectUnauthorized), the configured CAs (or
 * the system's), and the server's name checked against its certificate (RFC 6125), also when the
 * name is an IP address, which cannot be sent as SNI (RFC 6066 §3).
 */
export function tlsOptionsFor(endpoint: ServerEndpoint, settings: Pick<LdapSettings, 'tls'>): ConnectionOptions {
  const name = settings.tls.serverName ?? endpoint.host;
  const ca = settings.tls.caCertificates.flatMap(splitPemCertificates);
  return {
    rejectUnauthorized: true,
    minVersion: settings.tls.minVersion,
    ...(ca.length ? { ca } : {}),
    ...(isIP(name) ? {} : { servername: name }),
    host: endpoint.host,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
}

/** How often the connect phase is checked; small against connect timeouts of a second or more. */
const CONNECT_POLL_MS = 10;

export interface SessionTimeouts {
  connectMs: number;
  operationMs: number;
}

/**
 * One connection to one server (ldapts: one client, one socket, no reconnect). Every operation
 * runs under our own deadlines, so a timeout is known by type: the connect phase (TCP, and the
 * TLS handshake for ldaps) must finish within connectMs, each operation within operationMs.
 * ldapts's own timers are set a little later as a backstop that frees the socket.
 *
 * Trap: ldapts switches to TLS from the first byte whenever `tlsOptions` is given to its
 * constructor, so for StartTLS the TLS options go to `startTLS()` only.
 */
export class LdapSession {
  private readonly client: Client;
  private started = false;
  private broken = false;
  /** Rejects the operation in flight when the connection is lost under it (see start()). */
  private onLost: ((error: Error) => void) | undefined;

  constructor(
    readonly endpoint: ServerEndpoint,
    private readonly tlsOptions: ConnectionOptions,
    private readonly timeouts: SessionTimeouts,
  ) {
    const backstop = 250;
    this.client = new Client({
      url: endpoint.url,
      connectTimeout: timeouts.connectMs + backstop,
      timeout: timeouts.operationMs + backstop,
      ...(endpoint.security === 'ldaps' ? { tlsOptions: { ...tlsOptions } } : {}),
      // DNs come from the server and from validated settings; ldapts need not re-parse them.
      strictDN: false,
    });
  }

  /** Still connected and never failed: may go back to the pool. */
  get usable(): boolean {
    return !this.broken && this.client.isConnected;
  }

  /**
   * Runs one operation under our deadlines. `setUp` marks an operation that is part of setting
   * up the connection (StartTLS): it shares the connect deadline, so a server that accepts TCP
   * but never completes TLS is given up as fast for StartTLS as for ldaps.
   */
  private async run<T>(operation: string, work: () => Promise<T>, setUp = false): Promise<T> {
    const { connectMs, operationMs } = this.timeouts;
    const timers: NodeJS.Timeout[] = [];
    const deadline = new Promise<never>((_, reject) => {
      this.onLost = reject;
      const operationTimer = () => timers.push(setTimeout(() => reject(new LdapTimeoutError('operation', operationMs, operation)), operationMs));
      if (setUp) {
        timers.push(setTimeout(() => reject(new LdapTimeoutError('connect', connectMs, operation)), connectMs));
        return;
      }
      if (this.client.isConnected) {
        operationTimer();
        return;
      }
      // Connect phase: ldapts connects inside the first operation and tells nobody when it is
      // done, so watch for it; the operation's own deadline starts once connected.
      const started = Date.now();
      const watch = setInterval(() => {
        if (this.client.isConnected) {
          clearInterval(watch);
          operationTimer();
        } else if (Date.now() - started >= connectMs) {
          clearInterval(watch);
          reject(new LdapTimeoutError('connect', connectMs, operation));
        }
      }, CONNECT_POLL_MS);
      timers.push(watch);
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (error) {
      // An LDAP result (noSuchObject, invalidCredentials) leaves the connection as it was;
      // anything else (timeout, socket, TLS) leaves it unusable.
      if (!(error instanceof ResultCodeError)) {
        this.broken = true;
        this.discard();
      }
      throw error;
    } finally {
      this.onLost = undefined;
      for (const timer of timers) clearTimeout(timer);
    }
  }

  /** Connects and, for ldap:// servers, upgrades with StartTLS before anything else is sent. */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.endpoint.security === 'starttls') {
      // A fresh copy: ldapts writes the socket into the options object it is given.
      await this.run('StartTLS', () => this.client.startTLS({ ...this.tlsOptions }), true);
      this.watchUpgradedSocket();
    }
    this.started = true;
  }

  /**
   * Workaround for ldapts 8.0.17: after StartTLS it listens for the close of the original TCP
   * socket only, so a server that goes away is never noticed (isConnected stays true and
   * requests wait for their timeout). We watch the upgraded socket ourselves: its close marks
   * the session unusable and fails the operation in flight at once, so failover is immediate.
   * (`socket` is private in ldapts; the version is pinned exactly in package.json.)
   */
  private watchUpgradedSocket(): void {
    const socket = (this.client as unknown as { socket?: TLSSocket }).socket;
    socket?.once('close', () => {
      this.broken = true;
      this.lostSocket = socket;
      this.onLost?.(new LdapConnectionLostError());
    });
  }

  private lostSocket: TLSSocket | undefined;

  /**
   * Simple bind (RFC 4513 §5.1). Never called with an empty password: that would be an
   * unauthenticated bind (§5.1.2), which servers answer with success.
   */
  async bind(dn: string, password: string): Promise<void> {
    if (password === '') throw new Error('refusing an unauthenticated bind (empty password)');
    await this.start();
    try {
      await this.run('bind', () => this.client.bind(dn, password));
    } catch (error) {
      // A refused bind leaves the connection usable, but it is no longer bound as anybody we trust.
      this.broken = true;
      throw error;
    }
  }

  async search(base: string, options: SearchOptions): Promise<Entry[]> {
    await this.start();
    const result = await this.run('search', () => this.client.search(base, options));
    // Continuation references (AD returns them from the domain root) are not followed.
    return result.searchEntries;
  }

  /**
   * A paged search (RFC 2696) handed over one page at a time: the next page is only asked for
   * when the caller pulls it, so memory holds a page, not the result (directory sync). Each page
   * runs under the operation deadline, like any other operation.
   */
  async *searchPages(base: string, options: SearchOptions & { paged: { pageSize: number } }): AsyncGenerator<Entry[]> {
    await this.start();
    const pages = this.client.searchPaginated(base, options);
    try {
      while (true) {
        const page = await this.run('search', () => pages.next());
        if (page.done) return;
        yield page.value.searchEntries;
      }
    } finally {
      // A caller that stops early (an error while applying a page) leaves the generator here.
      // Not awaited: after a timeout the search may never answer (the session is closed anyway).
      void pages.return(undefined).catch(() => {});
    }
  }

  /** The underlying client, for operations sync needs (paged searches); deadlines are then the caller's. */
  get raw(): Client {
    return this.client;
  }

  private discard(): void {
    if (this.lostSocket) return; // nothing to tell a server that is gone; unbind would wait for its timer
    // unbind() destroys the socket even when the server does not answer (ldapts backstop timer).
    this.client.unbind().catch(() => {});
  }

  /** Unbinds (RFC 4511 §4.3) and closes; never throws. */
  async close(): Promise<void> {
    this.broken = true;
    if (!this.client.isConnected || this.lostSocket) {
      this.discard();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.unbind().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeouts.operationMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
