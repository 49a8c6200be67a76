import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../logging/logger.js';
import type { RequestOrigin } from '../audit/audit-log.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
  }
}

/**
 * Gives every request an id (the caller's X-Request-Id when it is well-formed, else a new one),
 * echoes it in the response, and logs one line per request when the response is finished:
 * method, path without the query string (it can carry codes and state), status, duration.
 */
export function requestContext(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    const offered = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    // The request's child logger is made on first use: most requests (every token issued) log
    // only their one line below, and a child logger per request is a measurable cost at
    // thousands of requests per second.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ requestId })),
      set: (value: Logger) => {
        log = value;
      },
    });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const path = ctx.path;
    const method = ctx.method;
    ctx.res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = ctx.res.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      (log ?? logger)[level]({ ...(log ? {} : { requestId }), method, path, status, ms: Math.round(ms * 10) / 10, tenant: ctx.state.tenant?.id }, 'request');
    });
    await next();
  };
}

export function requestOrigin(ctx: Context): RequestOrigin {
  return { clientIp: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId };
}
