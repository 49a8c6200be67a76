import type { LdapSettings } from '../../connectors/ldap/ldap-settings.js';
import type { Logger } from '../../logging/logger.js';
import type { DirectoryReader } from './directory-source.js';
import type { SyncTarget } from './sync-target.js';
import type { SyncUnit } from './sync-units.js';

/** What the phases of one run share. */
export interface RunContext {
  target: SyncTarget;
  reader: DirectoryReader;
  settings: LdapSettings;
  connectionId: string;
  /** `ldap:<connection>`: the source of the users and groups the connection brings. */
  source: string;
  mode: 'full' | 'incremental';
  /**
   * The connection's scope or credentials changed since the last run allowed to take access
   * away, and nobody confirmed: changes that take access away are counted, not made.
   */
  guarded: boolean;
  /** An admin confirmed deletions for this run (threshold and guard lifted). */
  confirmed: boolean;
  now: number;
  logger: Logger;
  /** Stops the run between pages (server shutdown). */
  signal: AbortSignal | undefined;
}

/** Units per directory transaction: large enough to save round trips, small enough to keep other writers of the tenant waiting briefly. */
export const UNITS_PER_TRANSACTION = 500;

/** Applies units in transactions of UNITS_PER_TRANSACTION. */
export async function applyInBatches(ctx: RunContext, units: SyncUnit[]): Promise<void> {
  for (let i = 0; i < units.length; i += UNITS_PER_TRANSACTION) {
    checkAborted(ctx);
    await ctx.target.apply(units.slice(i, i + UNITS_PER_TRANSACTION));
  }
}

export function checkAborted(ctx: Pick<RunContext, 'signal'>): void {
  if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error('sync run aborted');
}
