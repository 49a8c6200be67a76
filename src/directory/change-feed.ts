import type { TenantStore } from '../store/tenant-store.js';
import type { DirectoryChangeRecord } from '../store/repositories/directory-change-repository.js';
import { GatehouseError } from '../errors/gatehouse-error.js';

/**
 * The directory change feed as consumers read it (`GET /t/<tenant>/directory/changes`).
 *
 * Cursors are opaque strings; today they encode the sequence number of the last change a
 * consumer has seen. `after` omitted means "from the oldest change still kept". A page ends at
 * `next` (pass it back as `after`); a page with fewer changes than asked for means the consumer
 * has caught up (`hasMore: false`), and asking again with the same cursor later returns what
 * happened since. Changes are kept for the retention period; a cursor older than that gets 410
 * `directory.cursor_expired` (start over from a full read, then from `latest`).
 */
export interface ChangeEvent {
  seq: number;
  /** `<object>.<kind>`: user.created, user.updated, user.deleted, group.created, group.updated, group.deleted, group.member_added, group.member_removed. */
  type: string;
  occurredAt: string;
  object: { type: string; id: string };
  kind: string;
  /** The object's version after the change: per object 1, 2, 3, ...; a gap means a missed change. */
  version: number;
  actor: { type: string; id: string | null };
  via: string;
  /** For updates: the attributes that changed. */
  changed?: string[];
  /** created / updated: the object after the change; deleted: before it; membership: `{ member: { type, id } }`. */
  data?: Record<string, unknown>;
}

export interface ChangePage {
  changes: ChangeEvent[];
  /** Pass as `after` to continue. Equal to the request's cursor when nothing new happened. */
  next: string;
  hasMore: boolean;
  /** The cursor of the newest change now: where a consumer that just took a full snapshot starts. */
  latest: string;
}

export const MAX_CHANGES_PAGE = 1000;
export const DEFAULT_CHANGES_PAGE = 100;

const CURSOR_PREFIX = 'c1.';

export function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^c1\.(0|[1-9][0-9]{0,15})$/.exec(text);
  if (!match) throw new GatehouseError('directory.invalid_cursor', 'the cursor is not one this feed handed out', { status: 400 });
  return Number(match[1]);
}

export function changeEvent(c: DirectoryChangeRecord): ChangeEvent {
  return {
    seq: c.seq,
    type: `${c.objectType}.${c.kind}`,
    occurredAt: new Date(c.occurredAt).toISOString(),
    object: { type: c.objectType, id: c.objectId },
    kind: c.kind,
    version: c.version,
    actor: { type: c.actor.type, id: c.actor.id ?? null },
    via: c.via,
    ...(c.changed ? { changed: c.changed } : {}),
    ...(c.data ? { data: c.data } : {}),
  };
}

export async function readChanges(store: TenantStore, options: { after?: string | undefined; limit?: number | undefined }): Promise<ChangePage> {
  const limit = options.limit ?? DEFAULT_CHANGES_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CHANGES_PAGE) {
    throw new GatehouseError('directory.invalid_limit', `limit is a whole number from 1 to ${MAX_CHANGES_PAGE}`, { status: 400 });
  }
  const after = options.after === undefined ? undefined : decodeCursor(options.after);
  const { lastSeq, oldestSeq } = await store.directoryChanges.bounds();
  if (after !== undefined && after > lastSeq) throw new GatehouseError('directory.invalid_cursor', 'the cursor is not one this feed handed out', { status: 400 });
  // Numbers have no gaps: whatever lies between the cursor and the oldest change kept was purged.
  const firstKept = oldestSeq ?? lastSeq + 1;
  if (after !== undefined && after + 1 < firstKept) {
    throw new GatehouseError('directory.cursor_expired', 'changes after this cursor are no longer kept; read the directory again and continue from `latest`', { status: 410 });
  }
  const from = after ?? firstKept - 1;
  // One more than asked tells whether there is more without a second query.
  const rows = await store.directoryChanges.list(from, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1)?.seq ?? from;
  return { changes: page.map(changeEvent), next: encodeCursor(last), hasMore: rows.length > limit, latest: encodeCursor(Math.max(lastSeq, last)) };
}
