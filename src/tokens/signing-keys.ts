import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/envelope.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { SigningKeyRecord } from '../store/repositories/signing-key-repository.js';

export type SigningAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA';

export type KeyState = 'pending' | 'active' | 'retired';

export interface KeyStatus {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: number;
  signsFrom: number;
  retiredAt: number | undefined;
  publishUntil: number | undefined;
}

/** The sealed private key is bound to its tenant and kid: it cannot be opened anywhere else. */
const sealContext = (tenantId: string, kid: string) => `tenant:${tenantId}|signing-key:${kid}`;

export async function generateSigningKey(alg: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}), ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk, 'sha256');
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  return { kid, publicJwk: { ...publicJwk, kid, alg, use: 'sig' }, privateJwk: { ...privateJwk, kid, alg, use: 'sig' } };
}

/**
 * Which key signs at a given time: for each algorithm, the key that started signing last and has
 * not been retired yet. Every other key that is still published may only verify.
 */
export function keyStateAt(key: SigningKeyRecord, keys: SigningKeyRecord[], at: number): KeyState | 'unpublished' {
  if (key.publishUntil !== undefined && key.publishUntil <= at) return 'unpublished';
  if (key.signsFrom > at) return 'pending';
  if (key.retiredAt !== undefined && key.retiredAt <= at) return 'retired';
  const newer = keys.some(
    (k) => k.alg === key.alg && k.kid !== key.kid && k.signsFrom <= at && k.signsFrom > key.signsFrom && (k.retiredAt === undefined || k.retiredAt > at),
  );
  return newer ? 'retired' : 'active';
}

export interface SigningKeyServiceOptions {
  box: SecretBox;
  clock: Clock;
  algorithms: SigningAlgorithm[];
  publishAheadSeconds: number;
}

/**
 * A tenant's signing keys: created with the tenant, rotated on demand. Rotation publishes the new
 * key at once but lets it sign only after `publishAheadSeconds`, so verifiers that cache the JWKS
 * have it before the first token it signs; the key it replaces stays published until every token
 * it signed has expired.
 */
export class SigningKeyService {
  constructor(private readonly options: SigningKeyServiceOptions) {}

  async createInitialKeys(store: TenantStore): Promise<KeyStatus[]> {
    const now = this.options.clock.now();
    const created: KeyStatus[] = [];
    for (const alg of this.options.algorithms) {
      created.push(await this.addKey(store, alg, now));
    }
    return created;
  }

  private async addKey(store: TenantStore, alg: SigningAlgorithm, signsFrom: number): Promise<KeyStatus> {
    const { kid, publicJwk, privateJwk } = await generateSigningKey(alg);
    const record: SigningKeyRecord = {
      kid,
      alg,
      publicJwk: publicJwk as Record<string, unknown>,
      privateJwkSealed: this.options.box.seal(JSON.stringify(privateJwk), sealContext(store.tenantId, kid)),
      createdAt: this.options.clock.now(),
      signsFrom,
      retiredAt: undefined,
      publishUntil: undefined,
    };
    await store.signingKeys.insert(record);
    return { kid, alg, state: signsFrom > this.options.clock.now() ? 'pending' : 'active', createdAt: record.createdAt, signsFrom, retiredAt: undefined, publishUntil: undefined };
  }

  /**
   * @param maxTokenLifetimeSeconds the longest lifetime of any token the tenant signs, so that
   *   a retired key stays published until the last of them has expired.
   * @param immediate the new keys sign at once (after a suspected compromise).
   */
  async rotate(store: TenantStore, options: { maxTokenLifetimeSeconds: number; immediate?: boolean }): Promise<{ added: KeyStatus[]; retired: string[] }> {
    const now = this.options.clock.now();
    const signsFrom = options.immediate ? now : now + this.options.publishAheadSeconds * 1000;
    const publishUntil = signsFrom + options.maxTokenLifetimeSeconds * 1000;
    return store.transaction(async (trx) => {
      const existing = await trx.signingKeys.list();
      const added: KeyStatus[] = [];
      const retired: string[] = [];
      for (const alg of this.options.algorithms) {
        for (const key of existing.filter((k) => k.alg === alg && (k.retiredAt === undefined || k.retiredAt > signsFrom))) {
          await trx.signingKeys.retire(key.kid, signsFrom, publishUntil);
          retired.push(key.kid);
        }
        added.push(await this.addKey(trx, alg, signsFrom));
      }
      await trx.bumpRevision();
      return { added, retired };
    });
  }

  async status(store: TenantStore): Promise<KeyStatus[]> {
    const now = this.options.clock.now();
    const keys = await store.signingKeys.list();
    return keys
      .map((k) => ({ k, state: keyStateAt(k, keys, now) }))
      .filter((x): x is { k: SigningKeyRecord; state: KeyState } => x.state !== 'unpublished')
      .map(({ k, state }) => ({ kid: k.kid, alg: k.alg, state, createdAt: k.createdAt, signsFrom: k.signsFrom, retiredAt: k.retiredAt, publishUntil: k.publishUntil }));
  }

  /**
   * The private JWKS for the tenant's oidc-provider at `now`: the signing key of each algorithm
   * first and without restriction, every other published key with `key_ops: ["verify"]` so that
   * the provider publishes it but never signs with it. `validUntil` is the next moment the answer
   * changes (a key starts signing, retires or leaves the JWKS): the tenant's provider is rebuilt then.
   */
  async providerJwks(store: TenantStore): Promise<{ keys: JWK[]; validUntil: number }> {
    const now = this.options.clock.now();
    const keys = await store.signingKeys.list();
    const published: Array<{ jwk: JWK; active: boolean }> = [];
    let validUntil = Number.POSITIVE_INFINITY;
    for (const key of keys) {
      for (const t of [key.signsFrom, key.retiredAt, key.publishUntil]) if (t !== undefined && t > now) validUntil = Math.min(validUntil, t);
      const state = keyStateAt(key, keys, now);
      if (state === 'unpublished') continue;
      const jwk = JSON.parse(this.options.box.openString(key.privateJwkSealed, sealContext(store.tenantId, key.kid))) as JWK;
      published.push({ jwk: state === 'active' ? jwk : { ...jwk, key_ops: ['verify'] }, active: state === 'active' });
    }
    published.sort((a, b) => Number(b.active) - Number(a.active));
    return { keys: published.map((p) => p.jwk), validUntil };
  }
}
