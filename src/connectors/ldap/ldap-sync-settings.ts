import { z } from 'zod';

/**
 * The directory sync settings of one LDAP connection (issue 8), the `sync` section of its
 * settings. Where the directory is, who Gatehouse binds as and how entries map to users and
 * groups are the connection's own settings, shared with sign-in; this section says when and how
 * the whole directory is copied into the tenant directory, and what stops a run.
 */

/**
 * How changes since the last run are found:
 * - `usn`: Active Directory's uSNChanged against the DC's highestCommittedUSN (valid on that DC only);
 * - `modify-timestamp`: modifyTimestamp (RFC 4512 §3.4; OpenLDAP and most other servers);
 * - `auto`: `usn` when the server's root DSE publishes highestCommittedUSN, else `modify-timestamp`;
 * - `none`: every run reads everything.
 */
export const CHANGE_TRACKING = ['auto', 'usn', 'modify-timestamp', 'none'] as const;
export type ChangeTracking = (typeof CHANGE_TRACKING)[number];

const thresholdShape = {
  /** A run that would disable more than this many users (or groups) stops. */
  count: z.number().int().min(0).max(10_000_000),
  /** A run that would disable more than this share of the connection's users (or groups) stops. */
  percent: z.number().min(0).max(100),
};

const syncShape = {
  /** Runs on its own every `intervalMinutes` (runs on demand work either way). */
  enabled: z.boolean(),
  intervalMinutes: z.number().int().min(1).max(1440),
  /** A scheduled run reads the whole directory when the last full run is older than this. */
  fullEveryHours: z.number().int().min(1).max(8760),
  changeTracking: z.enum(CHANGE_TRACKING),
  /**
   * Incremental runs also list the ids of every entry in scope (one attribute per entry), so
   * that entries deleted or moved out of scope are found between full runs (OpenLDAP keeps no
   * trace of deleted entries; an entry moved out of scope or out of the filter leaves none in
   * any directory). Off: they are found by full runs only.
   */
  presenceScan: z.boolean(),
  /** At most this often (0: every incremental run); full runs list everything anyway. */
  presenceScanMinutes: z.number().int().min(0).max(10080),
  /**
   * The deletion threshold: a run that finds more users (or groups) gone than this stops before
   * it disables any, records why, and waits for an admin's explicit confirmation. A count, a
   * percentage, or both (either stops the run).
   */
  deletionThreshold: z.strictObject({ count: thresholdShape.count.optional(), percent: thresholdShape.percent.optional() }),
  /** Entries per page of the paged search (RFC 2696); Active Directory's MaxPageSize is 1000 by default. */
  pageSize: z.number().int().min(10).max(5000),
};

export const syncSettingsSchema = z.strictObject(syncShape);
export type SyncSettings = z.output<typeof syncSettingsSchema>;

/**
 * The defaults. 500 objects as the deletion threshold (the figure Microsoft's directory sync
 * uses for "prevent accidental deletes"): large enough not to stop ordinary leavers, small
 * enough that a scope mistake on a big directory stops. Fifteen minutes between runs, a
 * presence scan an hour (a leaver loses access within the hour) and a full run a day keep
 * the directory's load small.
 */
export const SYNC_DEFAULTS: SyncSettings = {
  enabled: false,
  intervalMinutes: 15,
  fullEveryHours: 24,
  changeTracking: 'auto',
  presenceScan: true,
  presenceScanMinutes: 60,
  deletionThreshold: { count: 500 },
  pageSize: 1000,
};

/** The settings schema's `sync` field: connections stored before issue 8 get the defaults. */
export const syncSettingsField = syncSettingsSchema.default(SYNC_DEFAULTS);

/** What an admin may change (null clears a threshold field). */
export const syncSettingsPatchSchema = z
  .strictObject({
    ...syncShape,
    deletionThreshold: z.strictObject({ count: thresholdShape.count.nullable().optional(), percent: thresholdShape.percent.nullable().optional() }),
  })
  .partial();
