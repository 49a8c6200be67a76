/**
 * An example service that accepts Gatehouse access tokens: a tiny "orders" API on Koa.
 *
 * It imports the verifier the way any service would, by package name (`gatehouse/verify`). In
 * this checkout the name resolves to the sources through the `gatehouse-source` export condition
 * (`npm run example:orders-api` passes it to node); a service depending on a built Gatehouse gets
 * dist/verify instead, with no condition at all.
 *
 *   npm run example:orders-api      (defaults: the demo tenant of `npm start`, its API and scopes)
 *   GATEHOUSE_ISSUER=... ORDERS_API=... READ_SCOPE=orders:read WRITE_SCOPE=orders:write PORT=4000 npm run example:orders-api
 */
import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { koaBearer, type VerifiedToken } from 'gatehouse/verify';

const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:3000/t/demo';
const audience = process.env.ORDERS_API ?? 'https://api.demo.example';
const port = Number(process.env.PORT ?? 4000);
const readScope = process.env.READ_SCOPE ?? 'read';
const writeScope = process.env.WRITE_SCOPE ?? 'write';

// One middleware per permission; they share the issuer's key set (fetched once, cached).
const canRead = koaBearer({ issuer, audience, requiredScopes: [readScope], realm: 'orders' });
const canWrite = koaBearer({ issuer, audience, requiredScopes: [writeScope], realm: 'orders' });

const orders: Array<{ id: number; item: string; by: string }> = [];
const router = new Router();
router.get('/health', (ctx) => {
  ctx.body = { status: 'ok' };
});
router.get('/orders', canRead, (ctx) => {
  const auth = ctx.state.auth as VerifiedToken;
  ctx.body = {
    orders,
    caller: { subject: auth.subject, client: auth.clientId, tenant: auth.tenant, actor: auth.claims.act?.sub, roles: auth.claims.roles ?? [] },
  };
});
router.post('/orders', canWrite, (ctx) => {
  const auth = ctx.state.auth as VerifiedToken;
  const order = { id: orders.length + 1, item: 'widget', by: auth.subject };
  orders.push(order);
  ctx.status = 201;
  ctx.body = order;
});

const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());
const server = createServer(app.callback()).listen(port, '127.0.0.1', () => {
  process.stdout.write(`orders API on http://127.0.0.1:${port} (issuer ${issuer}, audience ${audience})\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
