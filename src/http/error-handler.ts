import type { Context, Next } from 'koa';
import { GatehouseError, isGatehouseError } from '../errors/gatehouse-error.js';
import { renderMessagePage } from './pages/layout.js';
import { t } from './pages/strings.js';

/** Browsers ask for HTML first; API clients (curl, SDKs) get JSON unless they prefer HTML. */
export function wantsHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html';
}

const PAGE_TITLES: Record<string, Parameters<typeof t>[0]> = {
  'tenant.not_found': 'tenant.not_found.title',
  'tenant.suspended': 'tenant.suspended.title',
  'tenant.offboarding': 'tenant.suspended.title',
  'http.not_found': 'not_found.title',
};

/**
 * The one place errors become responses. A GatehouseError keeps its status; `expose: false`
 * (and anything unexpected) shows only a generic message with the request id as reference.
 * JSON bodies follow the OAuth error shape (`error`, `error_description`) so API clients can
 * treat every Gatehouse error alike.
 */
export function errorHandler() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new GatehouseError('http.not_found', 'there is nothing at this address', { status: 404 });
      }
    } catch (caught) {
      const error = isGatehouseError(caught)
        ? caught
        : new GatehouseError('internal_error', 'unexpected error', { status: 500, expose: false, cause: caught });
      const reference = ctx.state.requestId as string;
      if (error.status >= 500) ctx.state.log?.error({ err: caught, code: error.code }, 'request failed');
      else ctx.state.log?.info({ code: error.code, reason: error.message }, 'request refused');
      const message = error.expose ? error.message : t('error.generic');
      ctx.status = error.status;
      if (wantsHtml(ctx)) {
        const titleId = PAGE_TITLES[error.code];
        ctx.type = 'html';
        ctx.body = renderMessagePage(titleId ? t(titleId) : t('error.title'), pageMessage(error) ?? message, { reference });
      } else {
        ctx.body = {
          error: error.code,
          error_description: message,
          request_id: reference,
          ...(error.expose && error.details ? { details: error.details } : {}),
        };
      }
    }
  };
}

function pageMessage(error: GatehouseError): string | undefined {
  switch (error.code) {
    case 'tenant.not_found':
      return t('tenant.not_found.body');
    case 'tenant.suspended':
    case 'tenant.offboarding':
      return t('tenant.suspended.body');
    case 'http.not_found':
      return t('not_found.body');
    default:
      return error.status === 503 ? t('unavailable.body') : undefined;
  }
}
