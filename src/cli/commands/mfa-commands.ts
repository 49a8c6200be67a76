import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { isoTime, CliUsageError } from '../output.js';

export function registerMfaCommands(program: Command): void {
  const mfa = program.command('mfa').description('two-factor authentication: tenant policy and help-desk reset');

  mfa
    .command('policy <tenant>')
    .description('show, or set with --policy, who must use a second factor')
    .option('--policy <policy>', 'off, optional, required, or groups (required for members of --group)')
    .option('--group <name>', 'a group whose members must use a second factor (repeatable; a directory group by its DN)', collect, [])
    .action(async (tenantId: string, opts: { policy?: string; group: string[] }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const tenant = await s.tenants.get(tenantId);
        if (opts.policy === undefined && opts.group.length === 0) {
          out.result(tenant.settings.mfa, () => `policy: ${tenant.settings.mfa.policy}${tenant.settings.mfa.groups.length ? `\ngroups: ${tenant.settings.mfa.groups.join(', ')}` : ''}`);
          return;
        }
        if (!opts.policy) throw new CliUsageError('--group needs --policy groups');
        const updated = await s.tenants.update(tenantId, { settings: { ...tenant.settings, mfa: { policy: opts.policy, groups: opts.group } } }, operatorActor());
        out.result(updated.settings.mfa, () => `two-factor policy of ${tenantId}: ${updated.settings.mfa.policy}${updated.settings.mfa.groups.length ? ` (groups: ${updated.settings.mfa.groups.join(', ')})` : ''}`);
      }),
    );

  mfa
    .command('status <tenant> <user>')
    .description('a person\'s second factors and recovery codes left')
    .action(async (tenantId: string, name: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const user = await s.users.find(store, name);
        const factors = await s.mfa.confirmedFactors(store, user.id);
        const remaining = await store.mfa.remainingRecoveryCodes(user.id);
        const view = { user: user.username, factors: factors.map((f) => ({ id: f.id, type: f.type, createdAt: isoTime(f.createdAt), lastUsedAt: isoTime(f.lastUsedAt) })), recoveryCodesLeft: remaining };
        out.result(view, () => `${user.username}: ${factors.length} factor(s), ${remaining} recovery code(s) left`);
      }),
    );

  mfa
    .command('reset <tenant> <user>')
    .description('remove every second factor and recovery code of a person (help desk); audited')
    .action(async (tenantId: string, name: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const user = await s.users.find(store, name);
        const removed = await s.mfa.reset(store, user, operatorActor());
        out.result({ user: user.username, ...removed }, () => `reset two-factor of ${user.username}: ${removed.factors} factor(s) and ${removed.codes} recovery code(s) removed`);
      }),
    );
}
