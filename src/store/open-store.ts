import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';

export interface OpenStoreOptions {
  url: string;
  clock?: Clock;
  postgres?: { appRole: string; poolSize: number };
}

/** `sqlite:<path>` (`sqlite::memory:` for a throwaway database) or `postgres://...`. */
export function openStore(options: OpenStoreOptions): Store {
  const clock = options.clock ?? systemClock;
  if (options.url.startsWith('sqlite:')) {
    return new SqliteStore(options.url.slice('sqlite:'.length) || ':memory:', clock);
  }
  if (/^postgres(ql)?:\/\//.test(options.url)) {
    return new PostgresStore({ url: options.url, appRole: options.postgres?.appRole ?? 'gatehouse_app', poolSize: options.postgres?.poolSize ?? 10 }, clock);
  }
  throw new Error(`unsupported database URL (expected sqlite:<path> or postgres://...): ${options.url.replace(/\/\/[^@]*@/, '//***@')}`);
}
