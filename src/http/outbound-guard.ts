import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { GatehouseError } from '../errors/gatehouse-error.js';

/**
 * Special-use address ranges (RFC 6890 and its IPv6 counterparts) that a URL configured by a
 * tenant admin must not reach unless the installation allows it: loopback, private networks,
 * link-local (cloud metadata endpoints live at 169.254.169.254), carrier-grade NAT, unspecified.
 */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv6');
}

export function isSpecialUseAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return SPECIAL_USE.check(mapped, 'ipv4');
  return SPECIAL_USE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Refuses an outgoing request (SSRF, CWE-918) to a URL whose host is or resolves to a
 * special-use address, unless `allowPrivateNetworks`. Checked before each request; a host whose
 * DNS answer changes between this check and the connection (DNS rebinding) is not covered here:
 * oidc-provider's own requests are also guarded at connection time.
 */
export async function assertPublicDestination(url: string, allowPrivateNetworks: boolean): Promise<void> {
  if (allowPrivateNetworks) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  const blocked = addresses.find(isSpecialUseAddress);
  if (blocked !== undefined) {
    throw new GatehouseError(
      'outbound.private_address',
      `${new URL(url).host} resolves to ${blocked}, a private or loopback address; outgoing requests there are refused (outbound.allowPrivateNetworks allows them for on-premises installations)`,
      { status: 400 },
    );
  }
}
