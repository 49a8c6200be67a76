import type { SyncSettings } from '../../connectors/ldap/ldap-sync-settings.js';
import type { ObjectKind } from './directory-source.js';

/**
 * The deletion threshold (safety rail). A run that finds more objects of a kind gone than the
 * connection allows stops before it disables any: a scope mistake (a base DN or filter that
 * matches the wrong entries, a service account that suddenly sees less) looks exactly like a
 * mass departure, and only a person can tell them apart. Finding every object of a kind gone
 * always stops, whatever the threshold: that is what a base DN matching nothing looks like.
 *
 * Returns why the run must stop, or undefined when it may go on.
 */
export function thresholdBreach(kind: ObjectKind, missing: number, present: number, threshold: SyncSettings['deletionThreshold']): string | undefined {
  if (missing === 0) return undefined;
  const plural = `${kind}s`;
  if (missing === present) return `every ${kind} of the connection (${present}) is gone from what the directory returned`;
  if (threshold.count !== undefined && missing > threshold.count) return `${missing} ${plural} are gone, more than the threshold of ${threshold.count}`;
  if (threshold.percent !== undefined && missing * 100 > present * threshold.percent) {
    return `${missing} of ${present} ${plural} (${((missing * 100) / present).toFixed(1)}%) are gone, more than the threshold of ${threshold.percent}%`;
  }
  return undefined;
}
