import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { opensslKeyPair } from './saml-test-idp.js';

/**
 * SimpleSAMLphp (the Debian package, 1.19) as a real third-party SAML identity provider for the
 * tests: its own configuration, keys, sessions and logs in a temporary directory, served by
 * PHP's built-in web server on a free loopback port, started and stopped by the test.
 *
 * `php -S` serves one request at a time: nothing in a flow may make SimpleSAMLphp call back into
 * itself, and Gatehouse never calls it while it is busy (only for its metadata, beforehand).
 */

export const SSP_ROOT = '/usr/share/simplesamlphp';
export const SSP_USERS = { alice: 'AlicePass1!', bob: 'BobPass1!', carol: 'CarolPass1!' } as const;

export function simpleSamlPhpAvailable(): { ok: boolean; reason?: string } {
  const php = spawnSync('php', ['-m'], { encoding: 'utf8' });
  if (php.error || php.status !== 0) return { ok: false, reason: 'php is not installed (Debian packages php-cli php-xml php-mbstring php-curl)' };
  const modules = php.stdout.toLowerCase();
  const missing = ['dom', 'mbstring', 'openssl', 'curl'].filter((m) => !modules.includes(`\n${m}\n`));
  if (missing.length) return { ok: false, reason: `PHP modules missing: ${missing.join(', ')} (Debian packages php-xml php-mbstring php-curl)` };
  if (!existsSync(path.join(SSP_ROOT, 'www', '_include.php'))) return { ok: false, reason: `SimpleSAMLphp is not installed at ${SSP_ROOT} (Debian package simplesamlphp)` };
  if (spawnSync('openssl', ['version']).status !== 0) return { ok: false, reason: 'openssl is not installed' };
  return { ok: true };
}

/** What SimpleSAMLphp is told about Gatehouse (its saml20-sp-remote metadata). */
export interface SpForSimpleSamlPhp {
  entityId: string;
  acs: string;
  slo: string;
  /** PEM; with it AuthnRequests and logout messages must be signed by Gatehouse. */
  signingCert: string;
  /** PEM; with it assertions are encrypted to Gatehouse. */
  encryptionCert?: string;
  nameIdFormat: string;
}

export interface SimpleSamlPhp {
  baseUrl: string;
  entityId: string;
  metadataUrl: string;
  ssoUrl: string;
  sloUrl: string;
  idpCert: string;
  /** Registers Gatehouse as a service provider (read by SimpleSAMLphp at every request). */
  registerSp(sp: SpForSimpleSamlPhp): void;
  /** Registers Gatehouse from its published SP metadata (fetched from `metadataUrl`), as a partner's administrator would. */
  registerSpFromMetadata(metadataUrl: string): Promise<void>;
  /** The last lines of SimpleSAMLphp's own log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const phpString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

export async function startSimpleSamlPhp(options: { trustedHosts: string[] }): Promise<SimpleSamlPhp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-simplesamlphp-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/simplesaml/`;
  const entityId = `${baseUrl}saml2/idp/metadata.php`;
  for (const sub of ['config', 'metadata', 'cert', 'log', 'data', 'tmp', 'sessions', 'www']) mkdirSync(path.join(dir, sub));
  symlinkSync(path.join(SSP_ROOT, 'www'), path.join(dir, 'www', 'simplesaml'));
  const idp = opensslKeyPair('simplesamlphp-test-idp');
  writeFileSync(path.join(dir, 'cert', 'idp.key'), idp.key, { mode: 0o600 });
  writeFileSync(path.join(dir, 'cert', 'idp.crt'), idp.cert);
  const trusted = ['127.0.0.1', 'localhost', `127.0.0.1:${port}`, ...options.trustedHosts].map(phpString).join(', ');

  writeFileSync(
    path.join(dir, 'config', 'config.php'),
    `<?php
$config = [
    'baseurlpath' => ${phpString(baseUrl)},
    'certdir' => ${phpString(`${dir}/cert/`)},
    'loggingdir' => ${phpString(`${dir}/log/`)},
    'datadir' => ${phpString(`${dir}/data/`)},
    'tempdir' => ${phpString(`${dir}/tmp`)},
    'metadatadir' => ${phpString(`${dir}/metadata/`)},
    'attributenamemapdir' => '/etc/simplesamlphp/attributemap/',
    'technicalcontact_name' => 'Test', 'technicalcontact_email' => 'test@example.com',
    'secretsalt' => ${phpString(Buffer.from(idp.key).toString('base64').slice(40, 88))},
    'auth.adminpassword' => 'admin-secret',
    'admin.protectindexpage' => false, 'admin.protectmetadata' => false, 'admin.checkforupdates' => false,
    'trusted.url.domains' => [${trusted}],
    'enable.saml20-idp' => true, 'enable.shib13-idp' => false, 'enable.adfs-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'showerrors' => true, 'errorreporting' => false,
    'logging.level' => SimpleSAML\\Logger::INFO, 'logging.handler' => 'file', 'logging.logfile' => 'simplesamlphp.log',
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => ${phpString(`${dir}/sessions`)},
    'session.phpsession.cookiename' => 'SimpleSAML', 'session.cookie.name' => 'SimpleSAMLSessionID',
    'session.cookie.secure' => false, 'session.cookie.samesite' => null, 'session.cookie.path' => '/',
    'language.default' => 'en', 'timezone' => 'UTC',
    'assertion.allowed_clock_skew' => 180,
];
`,
  );
  writeFileSync(
    path.join(dir, 'config', 'authsources.php'),
    `<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:AlicePass1!' => ['uid' => ['alice'], 'mail' => ['alice@example.com'], 'givenName' => ['Alice'], 'sn' => ['Anderson'],
            'displayName' => ['Alice Anderson'], 'eduPersonAffiliation' => ['member', 'employee'], 'groups' => ['engineering', 'admins']],
        'bob:BobPass1!' => ['uid' => ['bob'], 'mail' => ['bob@example.com'], 'givenName' => ['Bob'], 'sn' => ['Brown'],
            'displayName' => ['Bob Brown'], 'eduPersonAffiliation' => ['member', 'employee'], 'groups' => ['engineering']],
        'carol:CarolPass1!' => ['uid' => ['carol'], 'mail' => ['carol@example.com'], 'givenName' => ['Carol'], 'sn' => ['Müller'],
            'displayName' => ['Carol Müller'], 'eduPersonAffiliation' => ['member', 'staff'], 'groups' => ['staff']],
    ],
];
`,
  );
  writeFileSync(
    path.join(dir, 'metadata', 'saml20-idp-hosted.php'),
    `<?php
$metadata[${phpString(entityId)}] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'userid.attribute' => 'uid',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'sign.logout' => true,
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'NameIDFormat' => [
        'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
        'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    ],
    'authproc' => [
        10 => ['class' => 'saml:AttributeNameID', 'attribute' => 'mail', 'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
        11 => ['class' => 'saml:AttributeNameID', 'attribute' => 'uid', 'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
        12 => ['class' => 'saml:PersistentNameID', 'attribute' => 'uid'],
        13 => ['class' => 'saml:TransientNameID'],
    ],
];
`,
  );
  writeFileSync(path.join(dir, 'metadata', 'saml20-sp-remote.php'), '<?php\n');
  writeFileSync(
    path.join(dir, 'router.php'),
    `<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/' || $path === '/simplesaml') { header('Location: /simplesaml/'); exit; }
return false;
`,
  );

  let output = '';
  const child: ChildProcess = spawn(
    'php',
    ['-d', 'variables_order=EGPCS', '-d', `session.save_path=${dir}/sessions`, '-d', 'display_errors=stderr', '-S', `127.0.0.1:${port}`, '-t', path.join(dir, 'www'), path.join(dir, 'router.php')],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SIMPLESAMLPHP_CONFIG_DIR: path.join(dir, 'config') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`php -S exited during start:\n${output}`);
    try {
      if ((await fetch(entityId)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`SimpleSAMLphp did not serve its metadata within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const instance: SimpleSamlPhp = {
    baseUrl,
    entityId,
    metadataUrl: entityId,
    ssoUrl: `${baseUrl}saml2/idp/SSOService.php`,
    sloUrl: `${baseUrl}saml2/idp/SingleLogoutService.php`,
    idpCert: idp.cert,
    async registerSpFromMetadata(metadataUrl) {
      const xml = await (await fetch(metadataUrl)).text();
      const cert = (use: string) => `-----BEGIN CERTIFICATE-----\n${new RegExp(`<md:KeyDescriptor use="${use}">.*?<ds:X509Certificate>([^<]+)<`, 's').exec(xml)![1]!}\n-----END CERTIFICATE-----\n`;
      const attr = (element: string, name: string) => new RegExp(`<md:${element}\\b[^>]*\\b${name}="([^"]+)"`).exec(xml)![1]!;
      instance.registerSp({
        entityId: /entityID="([^"]+)"/.exec(xml)![1]!,
        acs: attr('AssertionConsumerService', 'Location'),
        slo: attr('SingleLogoutService', 'Location'),
        signingCert: cert('signing'),
        encryptionCert: cert('encryption'),
        nameIdFormat: /<md:NameIDFormat>([^<]+)</.exec(xml)![1]!,
      });
    },
    registerSp(sp) {
      const keys = [
        `['encryption' => false, 'signing' => true, 'type' => 'X509Certificate', 'X509Certificate' => ${phpString(certBody(sp.signingCert))}]`,
        ...(sp.encryptionCert ? [`['encryption' => true, 'signing' => false, 'type' => 'X509Certificate', 'X509Certificate' => ${phpString(certBody(sp.encryptionCert))}]`] : []),
      ];
      const file = path.join(dir, 'metadata', 'saml20-sp-remote.php');
      writeFileSync(
        `${file}.new`,
        `<?php
$metadata[${phpString(sp.entityId)}] = [
    'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${phpString(sp.acs)}, 'index' => 0, 'isDefault' => true]],
    'SingleLogoutService' => [
        ['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'Location' => ${phpString(sp.slo)}],
        ['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${phpString(sp.slo)}],
    ],
    'NameIDFormat' => ${phpString(sp.nameIdFormat)},
    'validate.authnrequest' => true,
    'validate.logout' => true,
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'assertion.encryption' => ${sp.encryptionCert ? 'true' : 'false'},
    'keys' => [${keys.join(', ')}],
];
`,
      );
      const lint = spawnSync('php', ['-l', `${file}.new`], { encoding: 'utf8' });
      if (lint.status !== 0) throw new Error(`generated SP metadata does not parse: ${lint.stdout}${lint.stderr}`);
      writeFileSync(file, readFileSync(`${file}.new`));
    },
    logTail(lines = 30) {
      const log = path.join(dir, 'log', 'simplesamlphp.log');
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      return `${text.split('\n').slice(-lines).join('\n')}\n--- php -S ---\n${output.slice(-3000)}`;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return instance;
}
