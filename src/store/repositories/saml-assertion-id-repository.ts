import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { isUniqueViolation } from '../store.js';
import type { Clock } from '../../clock.js';

/**
 * The replay cache ([SAMLProf] 4.1.4.5): ids of accepted assertions, per connection, kept until
 * the assertion could no longer be accepted anyway. The primary key makes the check atomic across
 * server processes: the second insert of an id fails, whichever process tries it.
 */
export class SamlAssertionIdRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** Records the id; `false` when it was already recorded (a replay). */
  async remember(connectionId: string, assertionId: string, expiresAt: number): Promise<boolean> {
    try {
      await this.db
        .insertInto('saml_assertion_ids')
        .values({ tenant_id: this.tenantId, connection_id: connectionId, assertion_id: assertionId, received_at: this.clock.now(), expires_at: expiresAt })
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
}
