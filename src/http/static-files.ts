import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import Router from '@koa/router';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8', svg: 'image/svg+xml', png: 'image/png' };

/**
 * Browser code from npm packages, served as is from node_modules (never from a CDN): the file
 * within the package, found next to the package's main entry (its `exports` hide the bundle).
 */
const VENDOR: Record<string, { pkg: string; file: string }> = {
  'simplewebauthn-browser.js': { pkg: '@simplewebauthn/browser', file: 'dist/bundle/index.umd.min.js' },
};

function vendorPath(require: NodeJS.Require, pkg: string, file: string): string {
  const entry = require.resolve(pkg);
  const root = entry.slice(0, entry.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length);
  return `${root}${file}`;
}

/** The few static assets of the pages, read once at start and served from memory. */
export function staticRoutes(): Router {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(STATIC_DIR)) files.set(name, readFileSync(`${STATIC_DIR}${name}`));
  const require = createRequire(import.meta.url);
  for (const [name, { pkg, file }] of Object.entries(VENDOR)) files.set(name, readFileSync(vendorPath(require, pkg, file)));
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
