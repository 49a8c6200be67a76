import { describe, expect, it } from '@jest/globals';
import { isValidTenantId } from '../../src/tenants/tenant-id.js';

describe('tenant ids', () => {
  it.each(['acme', 'a', 'acme-corp', 'tenant42', '0day', 'a'.repeat(63)])('accepts %s', (id) => expect(isValidTenantId(id)).toBe(true));
  it.each(['', 'Acme', 'acme_corp', '-acme', 'acme-', 'a'.repeat(64), 'ac me', 'acme/../x', 'é'])('refuses %j', (id) => expect(isValidTenantId(id)).toBe(false));
});
