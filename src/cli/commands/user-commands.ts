import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import type { UserRecord } from '../../store/repositories/user-repository.js';
import { readPassword } from '../read-password.js';

export const userView = (u: UserRecord, groups?: string[]) => ({
  id: u.id,
  username: u.username,
  email: u.email,
  givenName: u.givenName,
  familyName: u.familyName,
  displayName: u.displayName,
  phone: u.phone,
  status: u.status,
  source: u.source,
  hasPassword: Boolean(u.passwordHash),
  ...(groups ? { groups } : {}),
  createdAt: isoTime(u.createdAt),
  updatedAt: isoTime(u.updatedAt),
});

interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

async function passwordFrom(opts: PasswordOptions, required: boolean): Promise<string | undefined> {
  if (opts.password !== undefined && opts.passwordStdin) throw new CliUsageError('give --password or --password-stdin, not both');
  if (opts.password !== undefined) return opts.password;
  if (opts.passwordStdin || required) return readPassword();
  return undefined;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('local users of a tenant (passwords hashed with argon2id)');

  user
    .command('create <tenant> <username>')
    .description('create a local user')
    .option('--email <email>')
    .option('--given-name <name>')
    .option('--family-name <name>')
    .option('--display-name <name>')
    .option('--phone <number>')
    .option('--group <name>', 'add to this group, created when missing (repeatable)', collect, [])
    .option('--password-stdin', 'read the password from standard input')
    .option('--password <password>', 'the password (visible in shell history: prefer --password-stdin)')
    .action(async (tenantId: string, username: string, opts: PasswordOptions & Record<string, any>, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const password = await passwordFrom(opts, false);
        const created = await s.users.create(
          store,
          {
            username,
            email: opts.email,
            givenName: opts.givenName,
            familyName: opts.familyName,
            displayName: opts.displayName,
            phone: opts.phone,
            password,
            groups: opts.group,
          },
          operatorActor(),
        );
        out.result(userView(created, opts.group), () => `created user ${created.username} (${created.id})${password ? '' : ' without a password: set one with user set-password'}`);
      }),
    );

  user
    .command('list <tenant>')
    .option('--limit <n>', 'at most this many', '1000')
    .action(async (tenantId: string, opts: { limit: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.users.list(await tenantStore(s, tenantId), { limit: Number(opts.limit) });
        out.result(all.map((u) => userView(u)), () =>
          all.length ? table(['USERNAME', 'STATUS', 'SOURCE', 'EMAIL', 'ID'], all.map((u) => [u.username, u.status, u.source, u.email, u.id])) : 'no users',
        );
      }),
    );

  user
    .command('show <tenant> <user>')
    .action(async (tenantId: string, name: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const u = await s.users.find(store, name);
        const v = userView(u, (await s.users.groupsOf(store, u.id)).map((g) => g.name));
        out.result(v, () => Object.entries(v).map(([k, val]) => `${k.padEnd(12)} ${Array.isArray(val) ? val.join(', ') || '-' : String(val ?? '-')}`).join('\n'));
      }),
    );

  user
    .command('set-password <tenant> <user>')
    .description('set a local user\'s password (prompted, or from --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--password <password>', 'the password (visible in shell history)')
    .action(async (tenantId: string, name: string, opts: PasswordOptions, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const password = (await passwordFrom(opts, true))!;
        await s.users.setPassword(await tenantStore(s, tenantId), name, password, operatorActor());
        out.result({ user: name, passwordSet: true }, () => `password set for ${name}`);
      }),
    );

  for (const [verb, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    user
      .command(`${verb} <tenant> <user>`)
      .description(verb === 'disable' ? 'refuse sign-in and token refresh for a user' : 'allow a disabled user again')
      .action(async (tenantId: string, name: string, _opts, cmd: Command) =>
        runWithServices(cmd, async (s, out) => {
          const u = await s.users.setStatus(await tenantStore(s, tenantId), name, status, operatorActor());
          out.result(userView(u), () => `${verb}d user ${u.username}`);
        }),
      );
  }

  user
    .command('add-to-group <tenant> <user> <group>')
    .description('add a user to a local group (created when missing)')
    .action(async (tenantId: string, name: string, group: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const g = await s.users.addToGroup(await tenantStore(s, tenantId), name, group, operatorActor());
        out.result({ user: name, group: g.name, groupId: g.id }, () => `added ${name} to ${g.name}`);
      }),
    );
}
