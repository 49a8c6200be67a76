import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { GatehouseError } from '../errors/gatehouse-error.js';

/**
 * Envelope encryption for secrets at rest (signing keys, LDAP bind passwords, SAML SP keys,
 * TOTP secrets).
 *
 * Each secret gets its own random data key (DEK); the secret is encrypted with the DEK and the
 * DEK is wrapped with the master key, both with AES-256-GCM. The master key never touches the
 * database; the sealed string names the master key that wrapped it, so master keys can be
 * rotated (new secrets use the first key of the ring, old ones stay readable while their key is
 * in the ring). Every seal binds "additional authenticated data" naming the tenant and the
 * purpose, so a sealed value copied into another tenant's row, or into another field, fails to
 * open instead of being used.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface MasterKey {
  id: string;
  key: Buffer;
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function gcmDecrypt(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

export class SecretBox {
  private readonly byId: Map<string, Buffer>;
  private readonly current: MasterKey;

  /** @param ring master keys, the first one encrypts; all of them decrypt. */
  constructor(ring: MasterKey[]) {
    if (ring.length === 0) throw new Error('SecretBox needs at least one master key');
    for (const k of ring) if (k.key.length !== 32) throw new Error(`master key ${k.id} must be 32 bytes`);
    this.current = ring[0]!;
    this.byId = new Map(ring.map((k) => [k.id, k.key]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string | Buffer, context: string): string {
    const aad = Buffer.from(context, 'utf8');
    const dek = randomBytes(32);
    const wrapped = gcmEncrypt(this.current.key, dek, Buffer.from(`dek|${context}`, 'utf8'));
    const body = gcmEncrypt(dek, Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'), aad);
    dek.fill(0);
    return [VERSION, this.current.id, wrapped.toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Buffer {
    const [version, keyId, wrapped, body] = sealed.split('.');
    if (version !== VERSION || !keyId || !wrapped || !body) {
      throw new GatehouseError('crypto.sealed_value_malformed', 'a sealed secret is malformed', { status: 500, expose: false });
    }
    const master = this.byId.get(keyId);
    if (!master) {
      throw new GatehouseError(
        'crypto.master_key_missing',
        `a secret is sealed with master key ${keyId}, which is not configured`,
        { status: 500, expose: false },
      );
    }
    try {
      const dek = gcmDecrypt(master, Buffer.from(wrapped, 'base64url'), Buffer.from(`dek|${context}`, 'utf8'));
      const plain = gcmDecrypt(dek, Buffer.from(body, 'base64url'), Buffer.from(context, 'utf8'));
      dek.fill(0);
      return plain;
    } catch (cause) {
      throw new GatehouseError('crypto.unseal_failed', 'a sealed secret failed its integrity check', {
        status: 500,
        expose: false,
        cause,
      });
    }
  }

  /**
   * Keys derived from the master keys for one purpose (HKDF-SHA256), newest first: for secrets
   * that every server process must agree on without storing them, such as cookie signing keys.
   */
  deriveKeys(purpose: string): Buffer[] {
    return [...this.byId.values()].map((master) => Buffer.from(hkdfSync('sha256', master, 'gatehouse', purpose, 32)));
  }

  openString(sealed: string, context: string): string {
    return this.open(sealed, context).toString('utf8');
  }
}
