import Router from '@koa/router';
import type { Store } from '../store/store.js';

/**
 * /healthz: the process is up (liveness). /readyz: the store answers and every migration is
 * applied (readiness): a load balancer sends traffic only to ready processes.
 */
export function healthRoutes(store: Store): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await store.ping();
      const { pending } = await store.migrationStatus();
      if (pending.length > 0) {
        ctx.status = 503;
        ctx.body = { status: 'not_ready', reason: 'migrations pending', pending };
        return;
      }
      ctx.body = { status: 'ready', store: store.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', reason: 'store unreachable' };
    }
  });
  return router;
}
