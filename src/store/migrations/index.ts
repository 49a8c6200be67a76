import type { GatehouseMigration } from './migration.js';
import { foundation } from './0001-foundation.js';
import { ldapConnections } from './0003-ldap-connections.js';

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: GatehouseMigration[] = [foundation, ldapConnections];
