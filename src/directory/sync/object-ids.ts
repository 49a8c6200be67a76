import { randomBytes } from 'node:crypto';

/** Ids drawn per call from one random buffer (one system call for 1,024 ids). */
const IDS_PER_BUFFER = 1024;
const ID_BYTES = 16;

let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A new user or group id, exactly as `randomId()` makes them (16 random bytes, base64url: the
 * OIDC subject, random and carrying no personal data), taken from a buffer filled a thousand
 * ids at a time: a first sync creates a whole directory's worth of them.
 */
export function newObjectId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(IDS_PER_BUFFER * ID_BYTES);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  // Never reuse the bytes: overwrite what was handed out.
  pool.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
