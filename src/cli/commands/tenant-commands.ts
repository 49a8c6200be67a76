import { createWriteStream } from 'node:fs';
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

  for (const [name, status, verb, description] of [
    ['suspend', 'suspended', 'suspended', 'refuse every request of a tenant (its data stays)'],
    ['resume', 'active', 'resumed', 'serve a suspended or offboarding tenant again'],
    ['offboard', 'offboarding', 'started offboarding', 'refuse every request of a tenant before exporting and deleting it'],
  ] as const) {
    tenant
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string, _opts, cmd: Command) =>
        runWithServices(cmd, async (s, out) => {
          const t = await s.tenants.update(id, { status }, operatorActor());
          out.result(view(t, issuer(s.config.server.publicUrl, t.id)), () => `${verb} tenant ${t.id}`);
        }),
      );
  }

  tenant
    .command('export <id>')
    .description('write all of a tenant\'s data as JSON lines (no secrets; sessions and tokens left out)')
    .option('--out <file>', 'write to this file (default: standard output)')
    .action(async (id: string, opts: { out?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const target = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : undefined;
        if (!target && out.json) throw new CliUsageError('--json needs --out: the export itself goes to standard output otherwise');
        const write = (line: string) =>
          new Promise<void>((resolve, reject) => {
            const stream = target ?? process.stdout;
            if (stream.write(`${line}\n`)) resolve();
            else stream.once('drain', resolve).once('error', reject);
          });
        const result = await s.tenants.export(id, write, operatorActor(), (rows, table) => out.note(`  ${rows} rows exported (${table})`));
        if (target) await new Promise<void>((resolve, reject) => target.end((error?: Error | null) => (error ? reject(error) : resolve())));
        if (opts.out) out.result({ tenant: id, file: opts.out, ...result }, () => `exported ${result.rows} rows of ${id} to ${opts.out}`);
        else out.note(`exported ${result.rows} rows of ${id}`);
      }),
    );

  tenant
    .command('delete <id>')
    .description('delete an offboarding tenant and all its data (irreversible)')
    .requiredOption('--confirm <id>', 'the tenant id again')
    .action(async (id: string, opts: { confirm: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const removed = await s.tenants.delete(id, opts.confirm, operatorActor());
        const total = Object.values(removed).reduce((a, b) => a + b, 0);
        out.result({ deleted: id, rows: total, byTable: removed }, () => `deleted tenant ${id} (${total} rows)`);
      }),
    );
}
