import type { Command } from 'commander';
import { runWithServices, operatorActor } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import type { TenantRecord } from '../../store/repositories/tenant-registry.js';

const view = (t: TenantRecord, issuer: string) => ({
  id: t.id,
  displayName: t.displayName,
  status: t.status,
  issuer,
  settings: t.settings,
  revision: t.revision,
  createdAt: isoTime(t.createdAt),
  updatedAt: isoTime(t.updatedAt),
});

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('create and manage tenants');
  const issuer = (publicUrl: string, id: string) => `${publicUrl}/t/${id}`;

  tenant
    .command('create <id>')
    .description('create a tenant with its own issuer and signing keys')
    .requiredOption('--name <displayName>', 'display name shown on sign-in pages')
    .option('--settings <json>', 'tenant settings as JSON, e.g. \'{"branding":{"accentColor":"#1f5fbf"}}\'')
    .action(async (id: string, opts: { name: string; settings?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        let settings: unknown;
        if (opts.settings) {
          try {
            settings = JSON.parse(opts.settings);
          } catch {
            throw new CliUsageError('--settings is not valid JSON');
          }
        }
        const t = await s.tenants.create({ id, displayName: opts.name, settings }, operatorActor());
        out.result(view(t, issuer(s.config.server.publicUrl, t.id)), () => `created tenant ${t.id}\n  issuer: ${issuer(s.config.server.publicUrl, t.id)}`);
      }),
    );

  tenant
    .command('list')
    .description('list tenants')
    .action(async (_opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.tenants.list();
        out.result(
          all.map((t) => view(t, issuer(s.config.server.publicUrl, t.id))),
          () => (all.length ? table(['ID', 'STATUS', 'NAME', 'CREATED'], all.map((t) => [t.id, t.status, t.displayName, isoTime(t.createdAt)])) : 'no tenants'),
        );
      }),
    );

  tenant
    .command('show <id>')
    .description('show one tenant')
    .action(async (id: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const t = await s.tenants.get(id);
        const v = view(t, issuer(s.config.server.publicUrl, t.id));
        out.result(v, () =>
          [`id:        ${v.id}`, `name:      ${v.displayName}`, `status:    ${v.status}`, `issuer:    ${v.issuer}`, `settings:  ${JSON.stringify(v.settings)}`, `created:   ${v.createdAt}`].join('\n'),
        );
      }),
    );

  tenant
    .command('update <id>')
    .description('change a tenant\'s display name or settings')
    .option('--name <displayName>')
    .option('--settings <json>', 'replaces the settings document')
    .action(async (id: string, opts: { name?: string; settings?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        if (!opts.name && !opts.settings) throw new CliUsageError('nothing to change: give --name or --settings');
        let settings: unknown;
        if (opts.settings) {
          try {
            settings = JSON.parse(opts.settings);
          } catch {
            throw new CliUsageError('--settings is not valid JSON');
          }
        }
        const t = await s.tenants.update(id, { displayName: opts.name, settings }, operatorActor());
        out.result(view(t, issuer(s.config.server.publicUrl, t.id)), () => `updated tenant ${t.id}`);
      }),
    );

  for (const [name, status, verb] of [
    ['suspend', 'suspended', 'suspended'],
    ['resume', 'active', 'resumed'],
  ] as const) {
    tenant
      .command(`${name} <id>`)
      .description(name === 'suspend' ? 'refuse every request of a tenant (its data stays)' : 'serve a suspended tenant again')
      .action(async (id: string, _opts, cmd: Command) =>
        runWithServices(cmd, async (s, out) => {
          const t = await s.tenants.update(id, { status }, operatorActor());
          out.result(view(t, issuer(s.config.server.publicUrl, t.id)), () => `${verb} tenant ${t.id}`);
        }),
      );
  }
}
