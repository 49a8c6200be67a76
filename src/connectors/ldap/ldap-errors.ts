import { ResultCodeError } from 'ldapts';
import { GatehouseError } from '../../errors/gatehouse-error.js';

/**
 * Translation of what ldapts and Node's sockets throw into Gatehouse's terms, at the boundary
 * (DESIGN.md, convention 4). Errors are told apart by type and code (LDAP result codes,
 * RFC 4511 §4.1.9; Node's system and OpenSSL verification codes), never by message text. The one
 * exception is Active Directory's sub-code ("data 52e") inside the diagnostic message of a
 * failed bind, which AD offers nowhere else ([MS-ADTS] and KB 2577717 document those values).
 */

/** How an LDAP attempt failed. Everything but `result` means the server itself is not usable. */
export type LdapFailureKind = 'timeout' | 'unreachable' | 'tls' | 'connection_lost' | 'result';

export interface LdapFailure {
  kind: LdapFailureKind;
  /** LDAP result code for `result`; Node/OpenSSL code otherwise, when there is one. */
  code?: number | string | undefined;
  /** Active Directory's sub-code of a failed bind (`52e`, `533`, ...), lowercase hex. */
  adDataCode?: string | undefined;
  /** Non-secret, human-readable: for logs, the audit log and `gatehouse ldap test`. */
  detail: string;
  /** The server is down, unreachable, untrusted or too slow: another server may be tried. */
  serverFailure: boolean;
}

/** Raised by our own deadlines, so a timeout is known by its type (ldapts's own carries no code). */
export class LdapTimeoutError extends Error {
  constructor(
    readonly phase: 'connect' | 'operation',
    readonly afterMs: number,
    readonly operation: string,
  ) {
    super(`${phase === 'connect' ? 'no connection' : `no answer to ${operation}`} within ${afterMs} ms`);
    this.name = 'LdapTimeoutError';
  }
}

/** The server closed the connection while an operation was waiting for its answer. */
export class LdapConnectionLostError extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('the server closed the connection');
    this.name = 'LdapConnectionLostError';
  }
}

/** RFC 4511 appendix A result names for the codes we meet, for readable details. */
const RESULT_NAMES: Record<number, string> = {
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  11: 'adminLimitExceeded',
  13: 'confidentialityRequired',
  19: 'constraintViolation',
  32: 'noSuchObject',
  34: 'invalidDNSyntax',
  48: 'inappropriateAuthentication',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** Result codes that say "this server cannot serve now" (RFC 4511 §4.1.9): try another one. */
const SERVER_FAILURE_RESULTS = new Set([51, 52]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED']);
/** OpenSSL certificate verification results (X509_V_ERR_*) and Node's hostname check. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TLS_EXPLANATIONS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not issued by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not issued by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chains to a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `data 52e` in an AD bind diagnostic, e.g. "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839". */
export function adDataCode(message: string): string | undefined {
  return /\bdata ([0-9a-f]{3,8})\b/i.exec(message)?.[1]?.toLowerCase();
}

export function describeResultCode(code: number): string {
  return `${RESULT_NAMES[code] ?? 'result'} (${code})`;
}

/**
 * Whether an error comes from the directory or the network (and may be translated), as opposed
 * to a bug in our own code (TypeError and the like), which must surface as it is.
 */
export function isDirectoryError(error: unknown): boolean {
  if (error instanceof LdapTimeoutError || error instanceof LdapConnectionLostError || error instanceof ResultCodeError) return true;
  if (typeof codeOf(error) === 'string') return true;
  // ldapts throws plain Errors for closed sockets and its own timeouts.
  return error instanceof Error && error.constructor === Error;
}

export function classifyLdapError(error: unknown): LdapFailure {
  if (error instanceof LdapTimeoutError) {
    return { kind: 'timeout', detail: error.message, serverFailure: true };
  }
  if (error instanceof ResultCodeError) {
    const data = adDataCode(error.message);
    return {
      kind: 'result',
      code: error.code,
      adDataCode: data,
      detail: `${describeResultCode(error.code)}${data ? `, AD data ${data}` : ''}`,
      serverFailure: SERVER_FAILURE_RESULTS.has(error.code),
    };
  }
  const code = codeOf(error);
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return { kind: 'tls', code, detail: `TLS refused: ${TLS_EXPLANATIONS[code] ?? code} (${code})`, serverFailure: true };
  }
  if (code && NETWORK_CODES.has(code)) {
    return { kind: 'unreachable', code, detail: `cannot connect (${code})`, serverFailure: true };
  }
  if (code && LOST_CODES.has(code)) {
    return { kind: 'connection_lost', code, detail: `connection lost (${code})`, serverFailure: true };
  }
  // ldapts reports a closed socket, a socket error or its own connect timeout as plain Errors
  // without a code: all of them mean the connection is gone.
  return { kind: 'connection_lost', code, detail: `connection failed${code ? ` (${code})` : ''}`, serverFailure: true };
}

/** One server's failure, as part of "every server failed". */
export interface ServerAttempt {
  server: string;
  failure: LdapFailure;
}

/**
 * Every server of a connection failed (down, unreachable, untrusted or too slow). People get a
 * "directory unavailable, try again later" page, API callers a 503; the attempts go to the logs
 * and the audit log, never to the response.
 */
export class LdapUnavailableError extends GatehouseError {
  constructor(
    readonly connectionId: string,
    readonly attempts: ServerAttempt[],
  ) {
    super('ldap.directory_unavailable', 'The directory is unavailable. Please try again later.', { status: 503, expose: true });
  }

  /** For logs and the audit log: which server failed how. */
  get summary(): string {
    return `all ${this.attempts.length} server${this.attempts.length === 1 ? '' : 's'} failed: ${this.attempts.map((a) => `${a.server} ${a.failure.detail}`).join('; ')}`;
  }
}

/** The directory answered, but refused what Gatehouse asked (service bind, a search): a configuration problem. */
export class LdapOperationError extends GatehouseError {
  constructor(
    code: 'ldap.service_bind_failed' | 'ldap.search_failed',
    readonly server: string,
    readonly failure: LdapFailure,
  ) {
    super(code, `${code === 'ldap.service_bind_failed' ? 'the service account bind was refused' : 'the directory refused a search'} by ${server}: ${failure.detail}`, {
      status: 502,
      expose: false,
    });
  }
}

/**
 * What the sign-in shows when an LDAP connection answered `directory_unavailable`: a 503 with a
 * "try again later" message (the error handler renders the unavailable page for browsers).
 */
export function directoryUnavailable(): GatehouseError {
  return new GatehouseError('ldap.directory_unavailable', 'The directory is unavailable. Please try again later.', { status: 503, expose: true });
}
