import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): { ok: boolean; reason?: string } {
  return existsSync(CHROMIUM) ? { ok: true } : { ok: false, reason: `Chromium is not installed at ${CHROMIUM} (Debian package chromium)` };
}

export interface TestBrowser {
  context: BrowserContext;
  /** A fresh, isolated browser profile (no cookies shared with the other). */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Headless Chromium in a profile of its own (a temporary directory, removed afterwards). The
 * flags keep Chromium from calling out to the internet, which this machine does not reach.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const dirs: string[] = [];
  const contexts: BrowserContext[] = [];
  const newContext = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-chromium-'));
    dirs.push(dir);
    const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 420, height: 900 } });
    contexts.push(context);
    return context;
  };
  const context = await newContext();
  return {
    context,
    newContext,
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export const OUTPUT_DIR = path.resolve(new URL('../../test-output/', import.meta.url).pathname);
