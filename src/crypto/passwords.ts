import { hash, verify } from '@node-rs/argon2';

/**
 * People's passwords: argon2id with OWASP's recommended minimum (19 MiB, 2 iterations, 1 lane).
 * Stored as standard PHC strings, so parameters can be raised later and old hashes still verify.
 */
const ARGON2_OPTIONS = { algorithm: 2 /* Algorithm.Argon2id: a const enum, which isolated modules cannot import */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verify against a throwaway hash, so that "no such user" takes as long as "wrong password" and
 * the two cannot be told apart by timing.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword('gatehouse-dummy-password-for-timing');
  await verifyPassword(await dummyHash, password);
  return false;
}

export const PASSWORD_POLICY = { minLength: 8, maxLength: 256 } as const;

export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_POLICY.minLength) return `a password has at least ${PASSWORD_POLICY.minLength} characters`;
  if (password.length > PASSWORD_POLICY.maxLength) return `a password has at most ${PASSWORD_POLICY.maxLength} characters`;
  return undefined;
}
