import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { configSchema, type GatehouseConfig } from './schema.js';
import { zodProblems } from './zod-messages.js';

/** The repository (or image) root: config/default.yaml lives under it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CONFIG_FILE = path.join(PROJECT_ROOT, 'config', 'default.yaml');

/** Raised when the configuration is invalid; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * The conventional environment variables, and the config key each one sets. They win over every
 * file. GATEHOUSE_MASTER_KEY is read here too, so that nothing deeper in the code reads the
 * environment.
 */
const ENV_OVERRIDES: ReadonlyArray<{ env: string; key: string[]; parse?: (v: string) => unknown }> = [
  { env: 'PORT', key: ['server', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  { env: 'HOST', key: ['server', 'host'] },
  { env: 'PUBLIC_URL', key: ['server', 'publicUrl'] },
  { env: 'DATABASE_URL', key: ['database', 'url'] },
  { env: 'LOG_LEVEL', key: ['logging', 'level'] },
  { env: 'GATEHOUSE_MASTER_KEY', key: ['keys', 'masterKey'] },
  { env: 'GATEHOUSE_KEYS_DIR', key: ['keys', 'dir'] },
  { env: 'GATEHOUSE_DEMO', key: ['demo', 'enabled'], parse: (v) => ['1', 'true', 'yes'].includes(v.toLowerCase()) },
];

export interface LoadConfigOptions {
  /** A config file given on the command line (or GATEHOUSE_CONFIG); merged over the defaults. */
  file?: string | undefined;
  /** The environment to read; the process environment by default. */
  env?: NodeJS.ProcessEnv;
  /** Skip config/default.yaml (tests). */
  skipDefaultFile?: boolean;
  /** Values merged last, over files and environment (tests). */
  overrides?: Record<string, unknown>;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge where objects merge and everything else (arrays included) is replaced. */
export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Plain, v) : v;
  }
  return out;
}

/**
 * `${NAME}` and `${NAME:-fallback}` in string values are replaced from the environment, so that
 * secrets in declarative setups come from the environment rather than from the file.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, where: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${where}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${where}.${i}`, problems));
  if (isPlain(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, where ? `${where}.${k}` : k, problems)]));
  }
  return value;
}

function readConfigFile(file: string, problems: string[]): Plain {
  if (!existsSync(file)) {
    problems.push(`config file ${file} does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    problems.push(`config file ${file} cannot be parsed: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed)) {
    problems.push(`config file ${file} must hold a mapping of sections at its top level`);
    return {};
  }
  return parsed;
}

/**
 * Loads config/default.yaml, then the given file, then the environment, and validates the result.
 * Every problem is collected and reported at once.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const sources = new Map<string, string>();

  let raw: Plain = options.skipDefaultFile ? {} : readConfigFile(DEFAULT_CONFIG_FILE, problems);
  const file = options.file ?? env.GATEHOUSE_CONFIG;
  if (file) raw = mergeConfig(raw, readConfigFile(path.resolve(file), problems));
  raw = interpolate(raw, env, '', problems) as Plain;

  for (const { env: name, key, parse } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target: Plain = raw;
    for (const part of key.slice(0, -1)) {
      if (!isPlain(target[part])) target[part] = {};
      target = target[part] as Plain;
    }
    target[key[key.length - 1]!] = parse ? parse(value) : value;
    sources.set(key.join('.'), `environment variable ${name}`);
  }
  if (options.overrides) raw = mergeConfig(raw, options.overrides);

  const result = configSchema.safeParse(raw);
  if (!result.success) problems.push(...zodProblems('', result.error, (key) => sources.get(key)));
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data!;
}
