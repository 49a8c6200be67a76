import { newObjectId } from './object-ids.js';
import { ldapIdentityFields } from '../../connectors/ldap/ldap-user-mapping.js';
import type { UserPatch, UserRecord, UserStatus } from '../../store/repositories/user-repository.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import { profileOf } from '../identity-linker.js';
import type { SourcePage, SourceUser } from './directory-source.js';
import type { SyncChange } from './sync-changes.js';
import { applyInBatches, type RunContext } from './run-context.js';
import { dnKeyOf } from './sync-target.js';
import type { LedgerWrite, SyncUnit } from './sync-units.js';

type Profile = ReturnType<typeof profileOf>;

/** The profile fields compared with the stored user, and their names in the change feed. */
const PROFILE_FIELDS: ReadonlyArray<keyof Profile> = ['username', 'email', 'emailVerified', 'givenName', 'familyName', 'displayName', 'phone'];

/** Usernames and emails are stored lowercased; absent and null are the same. */
function same(field: keyof Profile, a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => ((field === 'username' || field === 'email') && typeof v === 'string' ? v.toLowerCase() : (v ?? null));
  return norm(a) === norm(b);
}

/**
 * Users: each entry of a page becomes a user of the tenant directory, found by the entry's
 * immutable id (so a renamed or moved entry keeps its user, its sessions and consents), with
 * the profile sign-in would give it (the same mapping, ldap-user-mapping.ts, and the same
 * profile rules, identity-linker.ts) and the account state the directory gives it. Only what
 * differs is written; entries whose user is up to date cost a seen mark.
 */
export class UserReconciler {
  /** Entries new to the ledger in this run: an incremental run looks up the groups that name them. */
  readonly newToLedger: Array<{ dn: string; username: string }> = [];
  /** Entries handled by this run (incremental runs only: they are few), so retries skip them. */
  readonly processed = new Set<string>();

  constructor(private readonly ctx: RunContext) {}

  async page(page: SourcePage<SourceUser>): Promise<void> {
    const { target, source, connectionId } = this.ctx;
    const report = target.report;
    report.users.read += page.items.length + page.rejects.length;
    for (const reject of page.rejects) report.error({ kind: 'user', dn: reject.dn, code: 'sync.object_rejected', reason: reject.reason });

    const items = new Map<string, SourceUser>();
    for (const item of page.items) items.set(item.externalId, item);
    const ids = [...items.keys()];
    if (ids.length === 0) return;
    if (this.ctx.mode === 'incremental') for (const id of ids) this.processed.add(id);
    const users = new Map((await target.store.users.findManyByExternalIds(source, ids)).map((u) => [u.externalId!, u]));
    const ledger = await target.store.sync.objectsByExternalId(connectionId, 'user', ids);

    const units: SyncUnit[] = [];
    const unchanged: string[] = [];
    for (const item of items.values()) {
      const unit = this.reconcile(item, users.get(item.externalId), ledger.get(item.externalId));
      if (unit) units.push(unit);
      else unchanged.push(item.externalId);
    }
    // Present in the directory now, whatever happens to their writes below.
    await target.markSeen('user', [...ledger.keys()]);
    report.users.unchanged += unchanged.length;
    await target.succeeded('user', unchanged);
    await applyInBatches(this.ctx, units);
  }

  private ledgerWrite(item: SourceUser, objectId: string, row: SyncObjectRecord | undefined): LedgerWrite | undefined {
    const dnKey = dnKeyOf(item.dn) ?? item.dn.toLowerCase();
    if (!row) {
      this.newToLedger.push({ dn: item.dn, username: item.mapped.username });
      return { insert: { kind: 'user', externalId: item.externalId, objectId, dn: item.dn, dnKey, seenRun: this.ctx.target.run, missingSince: undefined } };
    }
    const patch: LedgerWrite & { patch: Record<string, unknown> } = { kind: 'user', externalId: item.externalId, patch: {} };
    if (row.objectId !== objectId) patch.patch.objectId = objectId;
    if (row.dn !== item.dn) Object.assign(patch.patch, { dn: item.dn, dnKey });
    if (row.missingSince !== undefined) patch.patch.missingSince = undefined;
    return Object.keys(patch.patch).length ? patch : undefined;
  }

  private reconcile(item: SourceUser, user: UserRecord | undefined, row: SyncObjectRecord | undefined): SyncUnit | undefined {
    const profile = profileOf(ldapIdentityFields(item.mapped));
    const status: UserStatus = item.disabled ? 'disabled' : 'active';
    const ref = { kind: 'user' as const, ref: item.externalId, dn: item.dn };
    const label = profile.username.toLowerCase();

    if (!user) {
      const id = newObjectId();
      let ledger: LedgerWrite;
      if (row) {
        // Known to the ledger, but its user was deleted in the tenant directory: a new user.
        this.newToLedger.push({ dn: item.dn, username: item.mapped.username });
        ledger = { kind: 'user', externalId: item.externalId, patch: { objectId: id, dn: item.dn, dnKey: dnKeyOf(item.dn) ?? item.dn.toLowerCase(), missingSince: undefined } };
      } else {
        ledger = this.ledgerWrite(item, id, undefined)!;
      }
      return {
        type: 'create-user',
        ref,
        user: {
          id,
          ...profile,
          address: undefined,
          status,
          passwordHash: undefined,
          source: this.ctx.source,
          externalId: item.externalId,
          // Roles are derived from the memberships once they are in (role-assignments.ts).
          attributes: { ldapDn: item.dn, roles: [] },
        },
        ledger,
        changes: [{ op: 'create', kind: 'user', label, dn: item.dn }],
      };
    }

    const patch: UserPatch = {};
    const fields: string[] = [];
    for (const field of PROFILE_FIELDS) {
      if (same(field, profile[field], user[field])) continue;
      (patch as Record<string, unknown>)[field] = profile[field];
      fields.push(field);
    }
    const previousDn = typeof user.attributes.ldapDn === 'string' ? user.attributes.ldapDn : row?.dn;
    if (user.attributes.ldapDn !== item.dn) {
      patch.attributes = { ...user.attributes, ldapDn: item.dn };
      fields.push('dn');
    }
    const changes: SyncChange[] = [];
    const restoring = row?.missingSince !== undefined;
    let disablesAccount = false;
    if (user.status !== status) {
      if (status === 'disabled' && !restoring && this.ctx.guarded) {
        // Disabled in the directory, but the connection's settings changed since the last run
        // allowed to take access away: held until an admin confirms.
        this.ctx.target.report.held.disableByDirectory++;
      } else {
        patch.status = status;
        fields.push('status');
        disablesAccount = status === 'disabled';
      }
    }
    if (restoring) changes.push({ op: 'restore', kind: 'user', label, dn: item.dn });
    const visible = fields.filter((f) => !(restoring && f === 'status'));
    if (visible.length) {
      const renamed = previousDn !== undefined && dnKeyOf(previousDn) !== dnKeyOf(item.dn) ? previousDn : undefined;
      changes.push({ op: 'update', kind: 'user', label, dn: item.dn, fields: visible, renamedFrom: renamed, disablesAccount });
    }
    const ledger = this.ledgerWrite(item, user.id, row);
    if (fields.length) return { type: 'update-user', ref, userId: user.id, patch, ledger, changes };
    if (ledger) return { type: 'ledger', ref, writes: [ledger], changes };
    return undefined;
  }
}
