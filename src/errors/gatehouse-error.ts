/**
 * One error model for the whole service (DESIGN.md, convention 4).
 *
 * An error has a stable machine-readable `code` (`tenant.not_found`, `ldap.bind_failed`), an HTTP
 * `status`, and an `expose` flag: when false the message is for logs only and people see a
 * generic text with the request's reference id. Library errors are translated into this model at
 * the boundary where they happen, never matched later by message text.
 */
export interface GatehouseErrorOptions {
  status?: number;
  /** Whether `message` may be shown to the caller. Defaults to true below 500, false from 500. */
  expose?: boolean;
  /** Structured, non-secret context for logs and for API error bodies (when exposed). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class GatehouseError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = options.status ?? 400;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details;
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new GatehouseError(code, message, { status: 400, details });

export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new GatehouseError(code, message, { status: 404, details });

export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new GatehouseError(code, message, { status: 409, details });

export const forbidden = (code: string, message: string, details?: Record<string, unknown>) =>
  new GatehouseError(code, message, { status: 403, details });

export const unavailable = (code: string, message: string, details?: Record<string, unknown>) =>
  new GatehouseError(code, message, { status: 503, expose: true, details });

export const internal = (code: string, message: string, cause?: unknown) =>
  new GatehouseError(code, message, { status: 500, expose: false, cause });

export function isGatehouseError(error: unknown): error is GatehouseError {
  return error instanceof GatehouseError;
}
