import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8', svg: 'image/svg+xml', png: 'image/png' };

/** The few static assets of the pages, read once at start and served from memory. */
export function staticRoutes(): Router {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(STATIC_DIR)) files.set(name, readFileSync(`${STATIC_DIR}${name}`));
  const router = new Router();
  router.get('/static/:name', (ctx) => {
    const file = files.get(ctx.params.name!);
    if (!file) return;
    ctx.type = TYPES[ctx.params.name!.split('.').pop()!] ?? 'application/octet-stream';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = file;
  });
  return router;
}
