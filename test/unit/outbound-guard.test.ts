import { describe, expect, it } from '@jest/globals';
import { assertPublicDestination, isSpecialUseAddress } from '../../src/http/outbound-guard.js';
import { httpMetadataFetcher } from '../../src/connectors/saml/saml-metadata-fetcher.js';
import { fetchSender } from '../../src/directory/webhooks/webhook-dispatcher.js';

describe('outgoing requests to addresses a tenant admin configures (SSRF guard)', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'])('treats %s as special-use', (address) => {
    expect(isSpecialUseAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111'])('treats %s as public', (address) => {
    expect(isSpecialUseAddress(address)).toBe(false);
  });

  it('refuses loopback and private hosts unless the installation allows private networks', async () => {
    await expect(assertPublicDestination('http://127.0.0.1:8080/hook', false)).rejects.toMatchObject({ code: 'outbound.private_address' });
    await expect(assertPublicDestination('https://localhost/metadata', false)).rejects.toMatchObject({ code: 'outbound.private_address' });
    await expect(assertPublicDestination('https://[::1]/x', false)).rejects.toMatchObject({ code: 'outbound.private_address' });
    await expect(assertPublicDestination('http://127.0.0.1:8080/hook', true)).resolves.toBeUndefined();
  });

  it('keeps SAML metadata fetches and webhook deliveries off private networks by default', async () => {
    await expect(httpMetadataFetcher({ allowPrivateNetworks: false }).fetch('https://127.0.0.1:1/metadata')).rejects.toMatchObject({ code: 'outbound.private_address' });
    expect(await fetchSender({ allowPrivateNetworks: false })('http://127.0.0.1:1/hook', {}, '{}', 1000)).toEqual({ error: 'private_address' });
  });
});
