import type { Kysely } from 'kysely';
import type { Database, DirectoryChangesTable } from '../database.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export type DirectoryObjectType = 'user' | 'group';
export type DirectoryChangeKind = 'created' | 'updated' | 'deleted' | 'member_added' | 'member_removed';

export interface DirectoryChangeRecord {
  /** Per tenant: 1, 2, 3, ... without gaps, in the order the changes were committed. */
  seq: number;
  occurredAt: number;
  objectType: DirectoryObjectType;
  objectId: string;
  kind: DirectoryChangeKind;
  /** The object's version after the change (a deletion counts as one more version). */
  version: number;
  actor: { type: string; id: string | undefined };
  /** What made the change: `scim`, `cli`, `sign-in`, `sync:<connection>`, `config`. */
  via: string;
  /** For updates: the attributes that changed. */
  changed: string[] | undefined;
  /** The object after the change (before it, for a deletion); for memberships, the member. */
  data: Record<string, unknown> | undefined;
}

export type NewDirectoryChange = Omit<DirectoryChangeRecord, 'seq' | 'occurredAt'>;

function fromRow(row: DirectoryChangesTable): DirectoryChangeRecord {
  return {
    seq: toNumber(row.seq),
    occurredAt: toNumber(row.occurred_at),
    objectType: row.object_type as DirectoryObjectType,
    objectId: row.object_id,
    kind: row.kind as DirectoryChangeKind,
    version: toNumber(row.version),
    actor: { type: row.actor_type, id: row.actor_id ?? undefined },
    via: row.via,
    changed: parseJson<string[] | undefined>(row.changed, undefined),
    data: parseJson<Record<string, unknown> | undefined>(row.data, undefined),
  };
}

/**
 * The change feed's rows and the tenant's sequence counter.
 *
 * Numbering: a transaction that changes the directory first locks the tenant's counter row
 * (`lockSequence`), then takes numbers from it (`append`). The lock is held until commit, so
 * writers of one tenant take turns: numbers are handed out without gaps (a rolled-back
 * transaction gives its numbers back), and a change numbered n+1 can only commit after the one
 * numbered n, so a reader that has seen n+1 will never later find a new n. This holds across
 * server processes: on PostgreSQL through the row lock, on SQLite because a write transaction
 * holds the database's single write lock.
 */
export class DirectoryChangeRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** Takes the tenant's counter lock for the rest of the transaction (creating the row at first use). */
  async lockSequence(): Promise<void> {
    const touch = () =>
      this.db
        .updateTable('directory_sequences')
        .set((eb) => ({ last_seq: eb('last_seq', '+', 0) }))
        .where('tenant_id', '=', this.tenantId)
        .executeTakeFirst();
    if (Number((await touch()).numUpdatedRows) > 0) return;
    await this.db
      .insertInto('directory_sequences')
      .values({ tenant_id: this.tenantId, last_seq: 0 })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .execute();
    await touch();
  }

  /** Numbers and stores one change. Call within a transaction that holds `lockSequence`. */
  async append(change: NewDirectoryChange): Promise<DirectoryChangeRecord> {
    const [record] = await this.appendMany([change]);
    return record!;
  }

  /**
   * Numbers and stores several changes at once, in the given order (one counter update, a few
   * multi-row inserts): for writers that change many objects in one transaction (directory
   * sync). Call within a transaction that holds `lockSequence`.
   */
  async appendMany(changes: NewDirectoryChange[]): Promise<DirectoryChangeRecord[]> {
    if (changes.length === 0) return [];
    const counter = await this.db
      .updateTable('directory_sequences')
      .set((eb) => ({ last_seq: eb('last_seq', '+', changes.length) }))
      .where('tenant_id', '=', this.tenantId)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    const first = toNumber(counter.last_seq) - changes.length + 1;
    const now = this.clock.now();
    const rows: DirectoryChangesTable[] = changes.map((change, i) => ({
      tenant_id: this.tenantId,
      seq: first + i,
      occurred_at: now,
      object_type: change.objectType,
      object_id: change.objectId,
      kind: change.kind,
      version: change.version,
      actor_type: change.actor.type,
      actor_id: change.actor.id ?? null,
      via: change.via,
      changed: change.changed ? toJson(change.changed) : null,
      data: change.data ? toJson(change.data) : null,
    }));
    // Twelve columns a row: 400 rows stay under SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 400) await this.db.insertInto('directory_changes').values(rows.slice(i, i + 400)).execute();
    // The records as they were given (reading the JSON back would only cost time).
    return changes.map((change, i) => ({ ...change, seq: first + i, occurredAt: now, actor: { type: change.actor.type, id: change.actor.id } }));
  }

  /** Changes after `afterSeq`, oldest first. */
  async list(afterSeq: number, limit: number): Promise<DirectoryChangeRecord[]> {
    const rows = await this.db
      .selectFrom('directory_changes')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  /**
   * The last number handed out, and the oldest change still kept (older ones were purged after
   * the retention period). Numbers have no gaps, so every number below the oldest kept was purged.
   */
  async bounds(): Promise<{ lastSeq: number; oldestSeq: number | undefined }> {
    const counter = await this.db.selectFrom('directory_sequences').select('last_seq').where('tenant_id', '=', this.tenantId).executeTakeFirst();
    const oldest = await this.db
      .selectFrom('directory_changes')
      .select('seq')
      .where('tenant_id', '=', this.tenantId)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    return { lastSeq: toNumber(counter?.last_seq), oldestSeq: oldest ? toNumber(oldest.seq) : undefined };
  }
}
