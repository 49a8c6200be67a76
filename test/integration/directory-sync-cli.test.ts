import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { GATEHOUSE_BIN, runCli } from '../helpers/cli.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { sleep } from '../helpers/free-port.js';
import { openldapSeed, PEOPLE } from '../fixtures/ldap/openldap-directory.js';
import { bulkEntries } from '../fixtures/ldap/bulk-directory.js';

// Each CLI call is a new Node process (one to three seconds each on a loaded machine).
jest.setTimeout(180_000);

const BULK_USERS = 3000;
const BULK_GROUPS = 30;

/**
 * `gatehouse sync` as an admin runs it, every command its own process, on one SQLite database:
 * progress read from the store while a run goes on, the lock against a second process, a run
 * killed half-way and started again, dry runs, history, and the exit status of a run that
 * waits for a confirmation.
 */
describeWhen(slapdAvailable(), 'gatehouse sync (CLI, separate processes)', () => {
  let dir: string;
  let ca: TestCa;
  let slapd: Slapd;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => runCli(args, { env, input });
  const db = () => new BetterSqlite3(path.join(dir, 'gh.db'), { readonly: true });
  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const d = db();
    try {
      return d.prepare(sql).all(...params) as T[];
    } finally {
      d.close();
    }
  };
  const count = (sql: string, ...params: unknown[]) => (query<{ n: number }>(sql, ...params)[0]?.n ?? 0);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-sync-cli-'));
    ca = createTestCa(path.join(dir, 'ca'));
    slapd = await startSlapd({ ca, name: 'slapd-sync-cli', seed: [...openldapSeed(), ...bulkEntries(BULK_USERS, BULK_GROUPS)] });
    env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' };
    expect((await cli(['tenant', 'create', 'acme', '--name', 'Acme'])).code).toBe(0);
    const added = await cli(
      [
        'ldap', 'add', 'acme', 'corp', '--preset', 'openldap', '--server', slapd.ldapsUrl, '--base-dn', slapd.baseDn, '--bind-dn', slapd.serviceDn,
        '--bind-password-stdin', '--ca-file', ca.certPath, '--set', `users.baseDn=${PEOPLE}`, '--set', 'sync.pageSize=50', '--set', 'sync.presenceScanMinutes=0', '--json',
      ],
      `${slapd.servicePassword}\n`,
    );
    expect(added.code).toBe(0);
    expect(added.json()).toMatchObject({ sync: { enabled: false, pageSize: 50, deletionThreshold: { count: 500 } } });
  });

  afterAll(async () => {
    slapd?.resume();
    await slapd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows progress from the store while a run goes on, holds the lock against a second process, and a run killed half-way converges when started again', async () => {
    const first: ChildProcess = spawn(process.execPath, [GATEHOUSE_BIN, 'sync', 'run', 'acme', 'corp', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => first.once('exit', () => resolve()));
    try {
      // Freeze the directory once a few pages are in: the run then waits for its next page.
      const deadline = Date.now() + 60_000;
      while (count("SELECT count(*) AS n FROM sync_objects WHERE kind = 'user'") < 300) {
        if (first.exitCode !== null || Date.now() > deadline) throw new Error(`the run did not get going (exit ${first.exitCode})`);
        await sleep(10);
      }
      slapd.pause();
      await sleep(1500); // the run writes its progress every second

      const status = await cli(['sync', 'status', 'acme', 'corp', '--json']);
      expect(status.code).toBe(0);
      const running = status.json().running;
      expect(running).toMatchObject({ status: 'running', mode: 'full', phase: 'users', trigger: 'cli', stale: false });
      expect(running.users.read).toBeGreaterThanOrEqual(300);
      expect(running.users.read).toBeLessThan(BULK_USERS);

      const second = await cli(['sync', 'run', 'acme', 'corp', '--json']);
      expect(second.code).toBe(1);
      expect(second.json()).toMatchObject({ error: 'sync.locked' });
      expect(second.json().message).toContain(running.id);

      first.kill('SIGKILL');
      await exited;
      const afterKill = (await cli(['sync', 'status', 'acme', 'corp', '--json'])).json();
      expect(afterKill.running).toMatchObject({ id: running.id, stale: true });
    } finally {
      slapd.resume();
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    }

    const again = await cli(['sync', 'run', 'acme', 'corp', '--json']);
    expect(again.code).toBe(0);
    const result = again.json();
    expect(result).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(result.report.notes).toContain('1 earlier run(s) had stopped without finishing; this run takes over');
    expect(result.report.users.created + result.report.users.unchanged).toBe(BULK_USERS + 8);
    expect(result.report.users.unchanged).toBeGreaterThanOrEqual(300);

    // Converged: every user once, created once in the change feed, every membership in.
    expect(count("SELECT count(*) AS n FROM users WHERE source = 'ldap:corp'")).toBe(BULK_USERS + 8);
    expect(count("SELECT count(DISTINCT object_id) AS n FROM directory_changes WHERE object_type = 'user' AND kind = 'created' AND via = 'sync:corp'")).toBe(BULK_USERS + 8);
    expect(count("SELECT count(*) AS n FROM directory_changes WHERE object_type = 'user' AND kind = 'created' AND via = 'sync:corp'")).toBe(BULK_USERS + 8);
    expect(count("SELECT count(*) AS n FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id WHERE g.name LIKE 'cn=bulk-%'")).toBe(BULK_USERS);

    const history = await cli(['sync', 'history', 'acme', 'corp', '--json']);
    expect(history.json().map((r: { status: string }) => r.status)).toEqual(['succeeded', 'interrupted']);
    const next = (await cli(['sync', 'run', 'acme', 'corp', '--json'])).json();
    expect(next).toMatchObject({ status: 'succeeded', mode: 'incremental', report: { users: { created: 0, updated: 0, disabled: 0 }, memberships: { added: 0, removed: 0 } } });
  });

  it('prints a dry run as one line per change, writes nothing, and shows a run in full from the history', async () => {
    await slapd.asAdmin(async (c) => {
      await c.add(`uid=newbie,${PEOPLE}`, { objectClass: 'inetOrgPerson', uid: 'newbie', cn: 'New Bie', sn: 'Bie', mail: 'newbie@example.com' });
      await c.del(`uid=bulk00001,${PEOPLE}`);
    });
    const changesBefore = count('SELECT count(*) AS n FROM directory_changes');
    const auditBefore = count('SELECT count(*) AS n FROM audit_events');
    const dry = await cli(['sync', 'dry-run', 'acme', 'corp']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`+ user newbie (uid=newbie,${PEOPLE})`);
    expect(dry.stdout).toContain(`- disable user bulk00001 (uid=bulk00001,${PEOPLE}): gone from the directory or the sync scope`);
    expect(dry.stdout.match(/- member uid=bulk00001,ou=people,dc=example,dc=com -x cn=bulk-00,/g)).toHaveLength(1);
    expect(dry.stdout).toMatch(/nothing was written/);
    const json = (await cli(['sync', 'dry-run', 'acme', 'corp', '--json', '--limit', '1'])).json();
    expect(json).toMatchObject({ outcome: 'succeeded', changesListed: 1, report: { users: { created: 1, disabled: 1 } } });
    expect(json.changesTotal).toBeGreaterThanOrEqual(3);
    expect(count('SELECT count(*) AS n FROM directory_changes')).toBe(changesBefore);
    expect(count('SELECT count(*) AS n FROM audit_events')).toBe(auditBefore);

    // A real run, for people: the progress on stderr, the summary on stdout.
    const human = await cli(['sync', 'run', 'acme', 'corp']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/^users/m);
    expect(human.stdout).toMatch(/sync run \d+ of corp \(incremental, ldaps:\/\/127\.0\.0\.1:\d+\): succeeded/);
    expect(human.stdout).toMatch(/users\s+read [\d,]+, created 1, updated 0, unchanged [\d,]+, disabled 1/);
    const [latest] = (await cli(['sync', 'history', 'acme', 'corp', '--json', '--limit', '1'])).json();
    const shown = await cli(['sync', 'history', 'acme', 'corp', '--run', latest.id]);
    expect(shown.stdout).toContain(`run ${latest.number} (${latest.id}) of corp: incremental, succeeded`);
  });

  it('exits 3 when a run stops for a confirmation, and the confirmed run goes through', async () => {
    expect((await cli(['ldap', 'update', 'acme', 'corp', '--set', 'sync.deletionThreshold.count=1'])).code).toBe(0);
    await slapd.asAdmin(async (c) => {
      await c.del(`uid=bulk00002,${PEOPLE}`);
      await c.del(`uid=bulk00003,${PEOPLE}`);
    });
    const stopped = await cli(['sync', 'run', 'acme', 'corp', '--json']);
    expect(stopped.code).toBe(3);
    expect(stopped.json()).toMatchObject({ status: 'stopped', reason: 'sync.deletion_threshold', report: { missing: { users: 2 }, users: { disabled: 0 } } });
    const confirmed = await cli(['sync', 'run', 'acme', 'corp', '--confirm-deletions', '--json']);
    expect(confirmed.code).toBe(0);
    expect(confirmed.json()).toMatchObject({ status: 'succeeded', report: { users: { disabled: 2 } } });
    const status = (await cli(['sync', 'status', 'acme', 'corp', '--json'])).json();
    expect(status.running).toBeUndefined();
    expect(status).toMatchObject({ lastRun: { status: 'succeeded', confirmDeletions: true }, objects: { missingUsers: 3 }, deletionThreshold: { count: 1 } });
  });
});
