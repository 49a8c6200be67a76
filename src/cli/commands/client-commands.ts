import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import type { ClientRecord } from '../../store/repositories/client-repository.js';
import type { ClientInput } from '../../clients/client-schema.js';

export const clientView = (c: ClientRecord) => ({
  clientId: c.clientId,
  name: c.name,
  type: c.type,
  firstParty: c.settings.firstParty,
  grantTypes: c.settings.grantTypes,
  tokenEndpointAuthMethod: c.settings.tokenEndpointAuthMethod,
  redirectUris: c.settings.redirectUris,
  postLogoutRedirectUris: c.settings.postLogoutRedirectUris,
  backchannelLogoutUri: c.settings.backchannelLogoutUri,
  scopes: c.settings.scopes,
  resources: c.settings.resources,
  tokenExchange: c.settings.tokenExchange,
  hasSecret: Boolean(c.secretDigest),
  declaredInConfig: Boolean(c.settings.declared),
  createdAt: isoTime(c.createdAt),
  updatedAt: isoTime(c.updatedAt),
});

/** `--resource https://api.example=read,write` grants an API with those scopes. */
function parseResourceGrant(value: string): { resource: string; scopes: string[] } {
  const eq = value.lastIndexOf('=');
  if (eq < 0 || value.slice(eq + 1).includes('/')) return { resource: value, scopes: [] };
  return { resource: value.slice(0, eq), scopes: value.slice(eq + 1).split(',').filter(Boolean) };
}

interface CreateOptions {
  id?: string;
  name?: string;
  type: 'confidential' | 'public';
  grant: string[];
  redirectUri: string[];
  postLogoutRedirectUri: string[];
  backchannelLogoutUri?: string;
  firstParty?: boolean;
  scope: string[];
  resource: string[];
  authMethod?: string;
  jwksUri?: string;
  jwks?: string;
  exchange: string[];
  exchangeSubjectAudience: string[];
}

/** `--exchange` and `--exchange-subject-audience` as a token exchange policy (RFC 8693). */
function exchangePolicy(exchange: string[], subjectAudiences: string[]) {
  if (exchange.length === 0) {
    if (subjectAudiences.length) throw new CliUsageError('--exchange-subject-audience needs at least one --exchange');
    return undefined;
  }
  return { resources: exchange.map(parseResourceGrant), ...(subjectAudiences.length ? { subjectAudiences } : {}) };
}

export function registerClientCommands(program: Command): void {
  const client = program.command('client').description('create and manage apps (OAuth clients) of a tenant');

  client
    .command('create <tenant>')
    .description('create an app; a confidential app\'s secret is printed once and only its digest is stored')
    .option('--id <clientId>', 'client id (generated when omitted)')
    .option('--name <name>', 'name shown on the consent page')
    .option('--type <type>', 'confidential or public', 'confidential')
    .option('--grant <grantType>', 'authorization_code, refresh_token, client_credentials, or token exchange (repeatable)', collect, [])
    .option('--redirect-uri <uri>', 'registered redirect URI, matched exactly (repeatable)', collect, [])
    .option('--post-logout-redirect-uri <uri>', '(repeatable)', collect, [])
    .option('--backchannel-logout-uri <uri>', 'where logout tokens are sent')
    .option('--first-party', 'an app of the tenant itself: no consent page')
    .option('--scope <scope>', 'OpenID scope the app may request (repeatable; default openid profile email)', collect, [])
    .option('--resource <uri[=scopes]>', 'an API the app may get tokens for, with its scopes: https://api.example=read,write (repeatable)', collect, [])
    .option('--auth-method <method>', 'client_secret_basic (default), client_secret_post, private_key_jwt or none')
    .option('--jwks-uri <uri>', 'the app\'s public keys, for private_key_jwt')
    .option('--jwks <json>', 'the app\'s public keys as a JWKS document, for private_key_jwt')
    .option('--exchange <uri=scopes>', 'token exchange (RFC 8693): a downstream API the app may call on a user\'s behalf, with its scopes at most (repeatable)', collect, [])
    .option('--exchange-subject-audience <uri>', 'token exchange: accept only user tokens issued for this API (repeatable)', collect, [])
    .action(async (tenantId: string, opts: CreateOptions, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        let jwks: unknown;
        if (opts.jwks) {
          try {
            jwks = JSON.parse(opts.jwks);
          } catch {
            throw new CliUsageError('--jwks is not valid JSON');
          }
        }
        const input = {
          clientId: opts.id,
          name: opts.name,
          type: opts.type,
          ...(opts.grant.length ? { grantTypes: opts.grant } : {}),
          redirectUris: opts.redirectUri,
          postLogoutRedirectUris: opts.postLogoutRedirectUri,
          backchannelLogoutUri: opts.backchannelLogoutUri,
          firstParty: Boolean(opts.firstParty),
          ...(opts.scope.length ? { scopes: opts.scope } : {}),
          resources: opts.resource.map(parseResourceGrant),
          tokenEndpointAuthMethod: opts.authMethod,
          jwksUri: opts.jwksUri,
          jwks,
          tokenExchange: exchangePolicy(opts.exchange, opts.exchangeSubjectAudience),
        } as ClientInput;
        const { client: created, secret } = await s.clients.create(store, input, operatorActor());
        out.result({ ...clientView(created), ...(secret ? { clientSecret: secret } : {}) }, () =>
          [
            `created client ${created.clientId} in tenant ${tenantId}`,
            ...(secret ? [`  client secret: ${secret}`, '  (shown once: store it now; only a digest is kept)'] : []),
          ].join('\n'),
        );
      }),
    );

  client
    .command('list <tenant>')
    .description('list the apps of a tenant')
    .action(async (tenantId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.clients.list(await tenantStore(s, tenantId));
        out.result(all.map(clientView), () =>
          all.length ? table(['CLIENT ID', 'TYPE', 'GRANTS', 'NAME'], all.map((c) => [c.clientId, c.type, c.settings.grantTypes.join(','), c.name])) : 'no clients',
        );
      }),
    );

  client
    .command('show <tenant> <clientId>')
    .description('show one app')
    .action(async (tenantId: string, clientId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const c = await s.clients.get(await tenantStore(s, tenantId), clientId);
        const v = clientView(c);
        out.result(v, () => Object.entries(v).map(([k, val]) => `${k.padEnd(24)} ${typeof val === 'object' ? JSON.stringify(val) : String(val ?? '-')}`).join('\n'));
      }),
    );

  client
    .command('delete <tenant> <clientId>')
    .description('delete an app; its tokens stop working when they are next checked')
    .action(async (tenantId: string, clientId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        await s.clients.delete(await tenantStore(s, tenantId), clientId, operatorActor());
        out.result({ deleted: clientId }, () => `deleted client ${clientId}`);
      }),
    );

  client
    .command('set-exchange <tenant> <clientId>')
    .description('set the app\'s token exchange policy (RFC 8693): which APIs it may call on a user\'s behalf; --remove takes it away')
    .option('--exchange <uri=scopes>', 'a downstream API and the most scopes the app may obtain for it (repeatable)', collect, [])
    .option('--subject-audience <uri>', 'accept only user tokens issued for this API (repeatable)', collect, [])
    .option('--remove', 'remove the policy and the token exchange grant')
    .action(async (tenantId: string, clientId: string, opts: { exchange: string[]; subjectAudience: string[]; remove?: boolean }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        if (opts.remove && opts.exchange.length) throw new CliUsageError('give either --exchange or --remove');
        const policy = exchangePolicy(opts.exchange, opts.subjectAudience);
        if (!policy && !opts.remove) throw new CliUsageError('give at least one --exchange <uri=scopes>, or --remove');
        const updated = await s.clients.setTokenExchange(await tenantStore(s, tenantId), clientId, policy, operatorActor());
        out.result(clientView(updated), () =>
          policy
            ? `client ${clientId} may exchange user tokens for: ${policy.resources.map((r) => `${r.resource} (${r.scopes.join(' ')})`).join(', ')}`
            : `client ${clientId} may no longer exchange tokens`,
        );
      }),
    );

  client
    .command('rotate-secret <tenant> <clientId>')
    .description('replace an app\'s secret; the new one is printed once')
    .action(async (tenantId: string, clientId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const secret = await s.clients.rotateSecret(await tenantStore(s, tenantId), clientId, operatorActor());
        out.result({ clientId, clientSecret: secret }, () => `new secret for ${clientId}: ${secret}\n  (shown once; the old secret no longer works)`);
      }),
    );
}
