import { createPrivateKey, generateKeyPair, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsaKeyPair = promisify(generateKeyPair) as (type: 'rsa', options: { modulusLength: number }) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

/**
 * Self-signed X.509 certificates for keys that only need a certificate as a container: SAML
 * metadata publishes keys as `<X509Certificate>` ([SAMLMeta] 2.4.1.1, KeyDescriptor), and SAML
 * peers trust the key inside it by pinning, not by a certificate chain (SAML V2.0 Metadata
 * Interoperability Profile, section 2.5.1). Node can parse certificates but not create them, so
 * this writes the few DER structures of RFC 5280 needed for a version 1 certificate, rather than
 * adding a general ASN.1 library for one job.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const nullValue = () => Buffer.from([0x05, 0x00]);
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let v = part;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  const trimmed = bytes[0] === 0 && bytes.length > 1 ? bytes.subarray(1) : bytes;
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = Number(iso.slice(0, 4));
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const COMMON_NAME = '2.5.4.3';

export interface KeyWithCertificate {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** X.509 PEM. */
  certificatePem: string;
}

/**
 * An RSA key pair and a self-signed SHA-256 certificate for it. RSA because every SAML
 * implementation supports it for signatures and it is the only key type XML Encryption key
 * transport uses; 2048 bits, NIST's minimum through 2030 (SP 800-57 part 1).
 */
export async function generateKeyWithCertificate(options: { commonName: string; now: number; validDays: number; modulusLength?: number }): Promise<KeyWithCertificate> {
  // Asynchronous: an RSA key takes tens to hundreds of milliseconds, off the event loop.
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: options.modulusLength ?? 2048 });
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(options.commonName.slice(0, 64)))));
  const algorithm = sequence(oid(SHA256_WITH_RSA), nullValue());
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    positiveInteger(serial),
    algorithm,
    name,
    sequence(time(options.now - 60_000), time(options.now + options.validDays * 86_400_000)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  // Parse it back: a malformed certificate fails here, at creation, not at a partner.
  const parsed = new X509Certificate(certificatePem);
  if (!parsed.verify(publicKey)) throw new Error('generated certificate does not verify');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem };
}

/** The SHA-256 fingerprint of a certificate, as `AB:CD:...` (how people compare certificates). */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** True when the private key belongs to the certificate. */
export function keyMatchesCertificate(privateKeyPem: string, certificatePem: string): boolean {
  return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(privateKeyPem));
}
