import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { masterKeyId, type MasterKey } from './envelope.js';
import { ConfigError } from '../config/load-config.js';

export const MASTER_KEY_FILE = 'master.key';

export interface MasterKeyOptions {
  /** Base64 keys, comma separated; the first encrypts, all decrypt (GATEHOUSE_MASTER_KEY). */
  fromEnvironment?: string | undefined;
  dir: string;
  generateDevKey: boolean;
  logger: Logger;
}

function decodeKey(text: string, where: string): MasterKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError([`${where}: a master key is 32 random bytes in base64 (got ${key.length} bytes); generate one with: openssl rand -base64 32`]);
  }
  return { id: masterKeyId(key), key };
}

/**
 * The master key ring: from GATEHOUSE_MASTER_KEY when set, else from `<dir>/master.key` (one
 * base64 key per line, the first encrypts). On a fresh development install a key is generated
 * into that file, with a warning: such a key lives next to the data it protects.
 */
export function loadMasterKeys(options: MasterKeyOptions): MasterKey[] {
  if (options.fromEnvironment) {
    return options.fromEnvironment.split(',').filter(Boolean).map((k, i) => decodeKey(k, `GATEHOUSE_MASTER_KEY entry ${i + 1}`));
  }
  const file = path.resolve(options.dir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    if (lines.length === 0) throw new ConfigError([`${file} holds no master key`]);
    return lines.map((l, i) => decodeKey(l, `${file} line ${i + 1}`));
  }
  if (!options.generateDevKey) {
    throw new ConfigError([`no master key: set GATEHOUSE_MASTER_KEY (openssl rand -base64 32) or put one in ${file}`]);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(
    file,
    `# Gatehouse DEVELOPMENT master key, generated ${new Date().toISOString()}.\n` +
      `# It encrypts every tenant's signing keys and secrets. For production, set GATEHOUSE_MASTER_KEY\n` +
      `# from a secret store instead, and keep this file out of backups of the database.\n` +
      `${key.toString('base64')}\n`,
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
  options.logger.warn(
    { file },
    'generated a DEVELOPMENT master key; for production set GATEHOUSE_MASTER_KEY from a secret store',
  );
  return [{ id: masterKeyId(key), key }];
}
