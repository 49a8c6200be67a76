import type { GatehouseMigration } from './migration.js';
import { foundation } from './0001-foundation.js';
import { samlConnections } from './0004-saml-connections.js';

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: GatehouseMigration[] = [foundation, samlConnections];
