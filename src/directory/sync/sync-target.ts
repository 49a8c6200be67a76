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

/** Characters that make a DN need the full RFC 4514 parser (escapes, quoting, multi-valued RDNs, hex values). */
const NOT_SIMPLE = /[\\"+;<>#\u0000]/;
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;

/** caseIgnoreMatch folding with insignificant spaces removed (RFC 4518), as ldap-dn.ts does it. */
function fold(value: string): string {
  // NFKC leaves ASCII as it is: skip it for the common case.
  const v = /^[\x00-\x7f]*$/.test(value) ? value : value.normalize('NFKC');
  return v.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The normalised DN (ldap-dn.ts normalizeDn), or undefined for a value that is not a DN (a
 * member value gone wrong). Sync normalises every member value of every group, so DNs without
 * escapes, quotes, multi-valued RDNs or hex values (nearly all of them) take a short path that
 * gives the same result (a unit test holds the two together); the others go to the full parser.
 */
export function dnKeyOf(dn: string): string | undefined {
  if (!NOT_SIMPLE.test(dn)) {
    const parts = dn.split(',');
    const out: string[] = [];
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.indexOf('=', eq + 1) >= 0) {
        out.length = 0;
        break;
      }
      const type = part.slice(0, eq).trim();
      const value = fold(part.slice(eq + 1));
      // NFKC can turn a fullwidth character into one that must be escaped: the full parser then.
      if (!ATTRIBUTE_TYPE.test(type) || value === '' || NOT_SIMPLE.test(value) || /[=,]/.test(value)) {
        out.length = 0;
        break;
      }
      out.push(`${type.toLowerCase()}=${value}`);
    }
    if (out.length === parts.length) return out.join(',');
  }
  try {
    return normalizeDn(dn);
  } catch {
    return undefined;
  }
}

/** How members are named in reports: a directory user by its DN (else its user name), a group by its name (a DN for directory groups). */
export async function memberLabels(store: TenantStore, members: Member[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const users = await store.users.getMany([...new Set(members.filter((m) => m.type === 'user').map((m) => m.id))]);
  for (const u of users) out.set(`user:${u.id}`, typeof u.attributes.ldapDn === 'string' ? u.attributes.ldapDn : u.username);
  const groups = await store.groups.getMany([...new Set(members.filter((m) => m.type === 'group').map((m) => m.id))]);
  for (const g of groups) out.set(`group:${g.id}`, g.name);
  return out;
}
