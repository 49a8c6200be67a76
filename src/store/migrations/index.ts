import type { GatehouseMigration } from './migration.js';
import { foundation } from './0001-foundation.js';
import { signInThrottle } from './0002-sign-in-throttle.js';
import { ldapConnections } from './0003-ldap-connections.js';
import { samlConnections } from './0004-saml-connections.js';
import { twoFactor } from './0006-two-factor.js';
import { directoryChangesAndScim } from './0007-directory-changes-and-scim.js';
import { directorySync } from './0008-directory-sync.js';

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: GatehouseMigration[] = [foundation, signInThrottle, ldapConnections, samlConnections, twoFactor, directoryChangesAndScim, directorySync];
