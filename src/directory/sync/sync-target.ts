import { normalizeDn } from '../../connectors/ldap/ldap-dn.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import type { ObjectKind } from './directory-source.js';
import type { SyncReport } from './sync-report.js';
import type { Member, SyncUnit } from './sync-units.js';

/**
 * Where a run's decisions go. The live target writes them (directory transactions, ledger,
 * retry list); the dry-run target only reports them and remembers what it would have created,
 * so that later phases (memberships) see the run's own would-be objects. Both read the tenant
 * directory and the ledger the same way, so a dry run shows what a run would do.
 */
export interface SyncTarget {
  readonly dryRun: boolean;
  /** Reads (users, groups, memberships, ledger). */
  readonly store: TenantStore;
  readonly connectionId: string;
  /** The run's number: seen marks carry it. */
  readonly run: number;
  readonly report: SyncReport;
  /** Applies units (each atomically), reporting their changes, or their errors per object. */
  apply(units: SyncUnit[]): Promise<void>;
  /** Entries of these ids are in the directory now. */
  markSeen(kind: ObjectKind, externalIds: string[]): Promise<void>;
  /** Entries processed without error: they leave the retry list. */
  succeeded(kind: ObjectKind, externalIds: string[]): Promise<void>;
  /** Objects (of this connection) by normalised DN: how group members are resolved. */
  resolveDnKeys(dnKeys: string[]): Promise<Map<string, Member & { kind: ObjectKind }>>;
  /** A group's object id by its entry's id (including groups this run created, or would create). */
  groupIds(externalIds: string[]): Promise<Map<string, string>>;
  /** Objects present until now that this run has not seen, a page at a time. */
  unseen(kind: ObjectKind, page: { after?: string | undefined; limit: number }): Promise<SyncObjectRecord[]>;
  countUnseen(kind: ObjectKind): Promise<number>;
  /** Objects of the source the ledger does not know (brought by sign-in), found missing by a complete listing: taken in as unseen. */
  adopt(kind: ObjectKind, objects: Array<{ id: string; externalId: string; dn: string | undefined }>): Promise<void>;
}

/** What both targets share: reading the ledger. */
export abstract class BaseTarget {
  constructor(
    readonly store: TenantStore,
    readonly connectionId: string,
    readonly run: number,
    readonly report: SyncReport,
  ) {}

  async resolveDnKeys(dnKeys: string[]): Promise<Map<string, Member & { kind: ObjectKind }>> {
    const out = new Map<string, Member & { kind: ObjectKind }>();
    for (const row of await this.store.sync.objectsByDnKey(this.connectionId, dnKeys)) {
      out.set(row.dnKey, { kind: row.kind, type: row.kind, id: row.objectId });
    }
    return out;
  }

  async groupIds(externalIds: string[]): Promise<Map<string, string>> {
    const rows = await this.store.sync.objectsByExternalId(this.connectionId, 'group', externalIds);
    return new Map([...rows].map(([externalId, row]) => [externalId, row.objectId]));
  }
}

/** The normalised DN, or undefined for a value that is not a DN (a member value gone wrong). */
export function dnKeyOf(dn: string): string | undefined {
  try {
    return normalizeDn(dn);
  } catch {
    return undefined;
  }
}
