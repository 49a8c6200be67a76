import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Clock } from '../../clock.js';
import { SamlConnectionRepository } from './saml-connection-repository.js';
import { SamlMessageRepository } from './saml-message-repository.js';
import { SamlAssertionIdRepository } from './saml-assertion-id-repository.js';
import { SamlSessionRepository } from './saml-session-repository.js';

/** Everything SAML stores for one tenant (connectors/saml/), grouped so TenantStore gains one field. */
export class SamlRepositories {
  readonly connections: SamlConnectionRepository;
  readonly messages: SamlMessageRepository;
  readonly assertionIds: SamlAssertionIdRepository;
  readonly sessions: SamlSessionRepository;

  constructor(db: Kysely<Database>, tenantId: string, clock: Clock) {
    this.connections = new SamlConnectionRepository(db, tenantId, clock);
    this.messages = new SamlMessageRepository(db, tenantId, clock);
    this.assertionIds = new SamlAssertionIdRepository(db, tenantId, clock);
    this.sessions = new SamlSessionRepository(db, tenantId, clock);
  }
}
