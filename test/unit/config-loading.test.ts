import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load-config.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-config-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('starts from config/default.yaml with the documented defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config.server.port).toBe(3000);
    expect(config.server.publicUrl).toBe('http://localhost:3000');
    expect(config.database.url).toBe('sqlite:./data/gatehouse.db');
    expect(config.keys.algorithms).toEqual(['ES256', 'RS256']);
    expect(config.demo.enabled).toBe(true);
  });

  it('lets the conventional environment variables win over files', () => {
    const file = tempFile('c.yaml', 'server:\n  port: 4000\n');
    const config = loadConfig({
      file,
      env: { PORT: '5000', PUBLIC_URL: 'https://id.example.com/', DATABASE_URL: 'postgres://db/gh', LOG_LEVEL: 'debug' },
    });
    expect(config.server.port).toBe(5000);
    expect(config.server.publicUrl).toBe('https://id.example.com');
    expect(config.database.url).toBe('postgres://db/gh');
    expect(config.logging.level).toBe('debug');
  });

  it('merges a config file over the defaults and reads ${VAR} from the environment', () => {
    const file = tempFile(
      'c.yaml',
      [
        'tenants:',
        '  - id: acme',
        '    displayName: Acme',
        '    clients:',
        '      - clientId: billing',
        '        grantTypes: [client_credentials]',
        '        secret: ${BILLING_SECRET}',
      ].join('\n'),
    );
    const secret = 'x'.repeat(43);
    const config = loadConfig({ file, env: { BILLING_SECRET: secret } });
    expect(config.tenants[0]!.clients[0]!.secret).toBe(secret);
    expect(config.server.port).toBe(3000);
  });

  it('refuses an invalid configuration with one message listing every problem', () => {
    const file = tempFile(
      'bad.yaml',
      ['server:', '  port: 99999', '  publicUrl: not-a-url', '  colour: blue', 'database:', '  url: mysql://x', 'tenants:', '  - id: Not_A_Slug', '    displayName: X', '    secret: ${MISSING_VAR}'].join('\n'),
    );
    let error: unknown;
    try {
      loadConfig({ file, env: { LOG_LEVEL: 'loud' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^Invalid configuration \(\d+ problems\):/);
    expect(message).toContain('server.port');
    expect(message).toContain('server.publicUrl');
    expect(message).toContain('server: unknown key "colour"');
    expect(message).toContain('database.url');
    expect(message).toContain('tenants.0.id');
    expect(message).toContain('tenants.0: unknown key "secret"');
    expect(message).toContain('environment variable MISSING_VAR is not set');
    expect(message).toMatch(/logging\.level: .*\(from environment variable LOG_LEVEL\)/);
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(7);
  });

  it('reports a config file that does not exist or does not parse', () => {
    expect(() => loadConfig({ file: '/nonexistent/gatehouse.yaml', env: {} })).toThrow(/does not exist/);
    const broken = tempFile('broken.yaml', 'server: [unclosed');
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(/cannot be parsed/);
  });
});
