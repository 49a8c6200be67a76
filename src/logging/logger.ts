import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Secrets never reach the log: these keys are censored at the top level of a logged object and
 * one level down (`{ password }`, `{ body: { password } }`), and so are the `authorization`,
 * `cookie` and `set-cookie` members of `headers` at either level. The request log line itself
 * carries only method, path, status, timing and ids, so this is the second line of defence for
 * objects that code logs on purpose.
 *
 * This was pino's `redact` option with wildcard paths (`*.password`); that costs about five times
 * the rest of a log line, and the token endpoint writes two lines per token (the request and its
 * audit event). The same censoring by key lookup, copying only what it changes, is nearly free.
 * pino's `redact` stays for the top-level keys only (cheap without wildcards): it is what censors
 * the bindings of child loggers, which no formatter sees.
 */
const SECRET_KEYS = new Set([
  'password',
  'secret',
  'client_secret',
  'clientSecret',
  'bindPassword',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'privateKey',
  'masterKey',
]);
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie']);
export const CENSORED = '[redacted]';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

function censorHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(headers)) {
    if (SECRET_HEADERS.has(key.toLowerCase())) (out ??= { ...headers })[key] = CENSORED;
  }
  return out ?? headers;
}

/** `object` with secrets censored (see above); the same object when there is nothing to censor. */
export function censorSecrets(object: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const value = object[key];
    let replaced: unknown = value;
    if (SECRET_KEYS.has(key)) replaced = CENSORED;
    else if (isPlainObject(value)) replaced = key === 'headers' ? censorHeaders(value) : depth === 0 ? censorSecrets(value, 1) : value;
    if (replaced !== value) (out ??= { ...object })[key] = replaced;
  }
  return out ?? object;
}

export interface LoggerOptions {
  level: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...SECRET_KEYS, ...[...SECRET_HEADERS].map((h) => `headers["${h}"]`)], censor: CENSORED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => censorSecrets(object),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that discards everything (CLI commands that print their own output, unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
