import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import type { ResourceServerRecord } from '../../store/repositories/resource-server-repository.js';
import type { ResourceServerInput } from '../../tokens/resource-server-schema.js';

const view = (r: ResourceServerRecord) => ({
  identifier: r.identifier,
  name: r.name,
  scopes: r.settings.scopes,
  accessTokenFormat: r.settings.accessTokenFormat,
  accessTokenTtl: r.settings.accessTokenTtl,
  userClaims: r.settings.userClaims,
  createdAt: isoTime(r.createdAt),
});

export function registerResourceCommands(program: Command): void {
  const resource = program.command('resource').description('register APIs (resource servers) that accept a tenant\'s tokens');

  resource
    .command('create <tenant> <identifier>')
    .description('register an API; its identifier (a URI) is the audience of its tokens')
    .option('--name <name>')
    .option('--scope <scope>', 'a scope the API accepts (repeatable)', collect, [])
    .option('--format <format>', 'jwt (verified offline, default) or opaque (revocable at once)', 'jwt')
    .option('--ttl <seconds>', 'access token lifetime in seconds', '600')
    .option('--user-claim <claim>', 'user attribute to put in its tokens: roles, groups, email, name (repeatable)', collect, [])
    .action(async (tenantId: string, identifier: string, opts: { name?: string; scope: string[]; format: string; ttl: string; userClaim: string[] }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        if (!/^\d+$/.test(opts.ttl)) throw new CliUsageError('--ttl is a whole number of seconds');
        const input = {
          identifier,
          name: opts.name,
          scopes: opts.scope,
          accessTokenFormat: opts.format,
          accessTokenTtl: Number(opts.ttl),
          userClaims: opts.userClaim,
        } as ResourceServerInput;
        const { resource: r } = await s.resources.upsert(await tenantStore(s, tenantId), input, operatorActor(), { createOnly: true });
        out.result(view(r), () => `registered API ${r.identifier} in tenant ${tenantId} (scopes: ${r.settings.scopes.join(' ') || '-'})`);
      }),
    );

  resource
    .command('update <tenant> <identifier>')
    .description('change an API; options not given keep their value (--scope and --user-claim replace the list)')
    .option('--name <name>')
    .option('--scope <scope>', 'a scope the API accepts (repeatable; replaces the list)', collect, [])
    .option('--format <format>', 'jwt or opaque')
    .option('--ttl <seconds>', 'access token lifetime in seconds')
    .option('--user-claim <claim>', 'user attribute to put in its tokens (repeatable; replaces the list)', collect, [])
    .option('--no-user-claims', 'put no user attributes in its tokens')
    .action(
      async (
        tenantId: string,
        identifier: string,
        opts: { name?: string; scope: string[]; format?: string; ttl?: string; userClaim: string[]; userClaims: boolean },
        cmd: Command,
      ) =>
        runWithServices(cmd, async (s, out) => {
          if (opts.ttl !== undefined && !/^\d+$/.test(opts.ttl)) throw new CliUsageError('--ttl is a whole number of seconds');
          const patch = {
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...(opts.scope.length ? { scopes: opts.scope } : {}),
            ...(opts.format !== undefined ? { accessTokenFormat: opts.format } : {}),
            ...(opts.ttl !== undefined ? { accessTokenTtl: Number(opts.ttl) } : {}),
            ...(opts.userClaim.length ? { userClaims: opts.userClaim } : !opts.userClaims ? { userClaims: [] } : {}),
          } as Partial<ResourceServerInput>;
          const r = await s.resources.update(await tenantStore(s, tenantId), identifier, patch, operatorActor());
          out.result(view(r), () => `updated API ${r.identifier} in tenant ${tenantId}`);
        }),
    );

  resource
    .command('list <tenant>')
    .description('list the APIs of a tenant')
    .action(async (tenantId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.resources.list(await tenantStore(s, tenantId));
        out.result(all.map(view), () =>
          all.length
            ? table(['IDENTIFIER', 'FORMAT', 'TTL', 'SCOPES'], all.map((r) => [r.identifier, r.settings.accessTokenFormat, r.settings.accessTokenTtl, r.settings.scopes.join(' ')]))
            : 'no APIs',
        );
      }),
    );

  resource
    .command('show <tenant> <identifier>')
    .action(async (tenantId: string, identifier: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const v = view(await s.resources.get(await tenantStore(s, tenantId), identifier));
        out.result(v, () => Object.entries(v).map(([k, val]) => `${k.padEnd(18)} ${Array.isArray(val) ? val.join(' ') : String(val ?? '-')}`).join('\n'));
      }),
    );

  resource
    .command('delete <tenant> <identifier>')
    .action(async (tenantId: string, identifier: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        await s.resources.delete(await tenantStore(s, tenantId), identifier, operatorActor());
        out.result({ deleted: identifier }, () => `deleted API ${identifier}`);
      }),
    );
}
