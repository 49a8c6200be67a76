import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore, collect } from '../context.js';
import { table, isoTime, CliUsageError } from '../output.js';
import type { Services } from '../../services.js';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { SamlConnectionPatch } from '../../connectors/saml/saml-connection-service.js';
import { certificateFingerprint } from '../../crypto/self-signed-certificate.js';

/** What `saml show` and `--json` print: settings, the partner as trusted, Gatehouse's endpoints. Never a private key. */
export function samlConnectionView(services: Services, tenantId: string, c: SamlConnectionRecord) {
  const urls = services.saml.urls(tenantId, c.id);
  const { idp: idpSettings, ...settings } = c.settings;
  return {
    id: c.id,
    displayName: c.displayName,
    enabled: c.enabled,
    declaredInConfig: c.declared,
    partner: {
      entityId: c.idp.entityId,
      source: c.idp.source,
      metadataUrl: idpSettings.metadataUrl,
      metadataFile: idpSettings.metadataFile,
      metadataFetchedAt: isoTime(c.idp.metadataFetchedAt),
      metadataNextRefresh: isoTime(c.metadataRefreshAt),
      metadataError: c.idp.metadataError,
      signingCertificates: c.idp.signingCertificates.map(certificateFingerprint),
      sso: c.idp.sso,
      slo: c.idp.slo,
    },
    serviceProvider: {
      entityId: urls.entityId,
      metadataUrl: urls.metadata,
      acs: urls.acs,
      slo: urls.slo,
      signingCertificate: certificateFingerprint(c.spCertificates.signing),
      encryptionCertificate: certificateFingerprint(c.spCertificates.encryption),
    },
    settings,
    createdAt: isoTime(c.createdAt),
    updatedAt: isoTime(c.updatedAt),
  };
}

interface ConnectionOptions {
  name?: string;
  metadataFile?: string;
  metadataUrl?: string;
  entityId?: string;
  ssoUrl?: string;
  ssoBinding?: string;
  sloUrl?: string;
  sloBinding?: string;
  certFile: string[];
  domain: string[];
  nameidFormat?: string;
  allowIdpInitiated?: boolean;
  defaultApp?: string;
  trustPartnerMfa?: boolean;
  allowSha1?: boolean;
  clockSkew?: string;
  settings?: string;
  enable?: boolean;
  disable?: boolean;
}

function withConnectionOptions(command: Command): Command {
  return command
    .option('--name <name>', 'name shown on the sign-in page')
    .option('--metadata-file <file>', 'the partner\'s metadata XML (read now; not refreshed)')
    .option('--metadata-url <url>', 'the partner\'s metadata URL (https; fetched now and refreshed on a schedule)')
    .option('--entity-id <id>', 'the partner\'s entity id (by hand, or to choose one IdP in an aggregate)')
    .option('--sso-url <url>', 'the partner\'s SingleSignOnService (by hand)')
    .option('--sso-binding <binding>', 'redirect or post')
    .option('--slo-url <url>', 'the partner\'s SingleLogoutService (by hand)')
    .option('--slo-binding <binding>', 'redirect or post')
    .option('--cert-file <file>', 'a partner signing certificate, PEM (repeatable; by hand)', collect, [])
    .option('--domain <domain>', 'an email domain this partner claims (repeatable)', collect, [])
    .option('--nameid-format <format>', 'persistent (default), transient, emailAddress or unspecified')
    .option('--allow-idp-initiated', 'accept IdP-initiated sign-in (needs --default-app)')
    .option('--default-app <clientId>', 'the app IdP-initiated sign-in lands in')
    .option('--trust-partner-mfa', 'trust the partner\'s MFA (by AuthnContextClassRef; see settings.mfaClassRefs)')
    .option('--allow-sha1', 'accept SHA-1 signatures from this partner (insecure; legacy IdPs only)')
    .option('--clock-skew <seconds>', 'clock skew tolerated on assertion times (default 60)')
    .option('--settings <json>', 'further settings as JSON (attributes, claims, roleMapping, provisioning, ...)');
}

/** Turns the flags into connection input; only the flags given are set (for update). */
function inputFromOptions(opts: ConnectionOptions): SamlConnectionPatch {
  let extra: Record<string, unknown> = {};
  if (opts.settings) {
    try {
      extra = JSON.parse(opts.settings) as Record<string, unknown>;
    } catch {
      throw new CliUsageError('--settings is not valid JSON');
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new CliUsageError('--settings must be a JSON object');
  }
  const idp: Record<string, unknown> = { ...((extra.idp as Record<string, unknown> | undefined) ?? {}) };
  if (opts.metadataFile) idp.metadataFile = opts.metadataFile;
  if (opts.metadataUrl) idp.metadataUrl = opts.metadataUrl;
  if (opts.entityId) idp.entityId = opts.entityId;
  if (opts.ssoUrl) idp.ssoUrl = opts.ssoUrl;
  if (opts.ssoBinding) idp.ssoBinding = opts.ssoBinding;
  if (opts.sloUrl) idp.sloUrl = opts.sloUrl;
  if (opts.sloBinding) idp.sloBinding = opts.sloBinding;
  if (opts.certFile.length) {
    idp.signingCertificates = opts.certFile.map((file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliUsageError(`--cert-file ${file}: ${(error as Error).message}`);
      }
    });
  }
  if (opts.clockSkew !== undefined && !/^\d+$/.test(opts.clockSkew)) throw new CliUsageError('--clock-skew is a number of seconds');
  return {
    ...extra,
    ...(Object.keys(idp).length ? { idp } : {}),
    ...(opts.name ? { displayName: opts.name } : {}),
    ...(opts.domain.length ? { domains: opts.domain } : {}),
    ...(opts.nameidFormat ? { nameIdFormat: opts.nameidFormat } : {}),
    ...(opts.allowIdpInitiated ? { allowIdpInitiated: true } : {}),
    ...(opts.defaultApp ? { defaultApp: opts.defaultApp } : {}),
    ...(opts.trustPartnerMfa ? { trustPartnerMfa: true } : {}),
    ...(opts.allowSha1 ? { allowSha1: true } : {}),
    ...(opts.clockSkew !== undefined ? { clockSkewSeconds: Number(opts.clockSkew) } : {}),
    ...(opts.enable ? { enabled: true } : {}),
    ...(opts.disable ? { enabled: false } : {}),
  } as SamlConnectionPatch;
}

function describe(view: ReturnType<typeof samlConnectionView>): string {
  const lines: string[] = [];
  const put = (k: string, v: unknown) => lines.push(`${k.padEnd(28)} ${v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  put('id', view.id);
  put('name', view.displayName);
  put('enabled', view.enabled);
  put('declared in config', view.declaredInConfig);
  put('partner entity id', view.partner.entityId);
  put('partner metadata', view.partner.metadataUrl ?? view.partner.metadataFile ?? view.partner.source);
  put('metadata fetched / next', `${view.partner.metadataFetchedAt ?? '-'} / ${view.partner.metadataNextRefresh ?? '-'}`);
  if (view.partner.metadataError) put('metadata error', view.partner.metadataError);
  put('partner signing certs', view.partner.signingCertificates.join(', '));
  put('partner SSO', view.partner.sso.map((e) => `${e.binding} ${e.url}`).join(', '));
  put('partner SLO', view.partner.slo.map((e) => `${e.binding} ${e.url}`).join(', ') || '-');
  put('our entity id', view.serviceProvider.entityId);
  put('our metadata', view.serviceProvider.metadataUrl);
  put('our ACS (POST)', view.serviceProvider.acs);
  put('our SLO (Redirect, POST)', view.serviceProvider.slo);
  put('our signing cert', view.serviceProvider.signingCertificate);
  put('our encryption cert', view.serviceProvider.encryptionCertificate);
  for (const [k, v] of Object.entries(view.settings)) put(k, v);
  return lines.join('\n');
}

export function registerSamlCommands(program: Command): void {
  const saml = program.command('saml').description('SAML partner identity providers of a tenant (Gatehouse is the service provider)');

  withConnectionOptions(saml.command('add <tenant> <connection>').description('add a SAML connection; its own signing and encryption keys are generated')).action(
    async (tenantId: string, connectionId: string, opts: ConnectionOptions, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const input = { ...inputFromOptions(opts), id: connectionId, displayName: opts.name ?? connectionId };
        const created = await s.saml.create(store, input, operatorActor());
        const view = samlConnectionView(s, tenantId, created);
        out.result(view, () =>
          [
            `added SAML connection ${connectionId} to tenant ${tenantId}`,
            `  give the partner our metadata: ${view.serviceProvider.metadataUrl}`,
            `  (or: gatehouse saml metadata ${tenantId} ${connectionId} --out sp-metadata.xml)`,
          ].join('\n'),
        );
      }),
  );

  saml
    .command('list <tenant>')
    .description('list the SAML connections of a tenant')
    .action(async (tenantId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const all = await s.saml.list(await tenantStore(s, tenantId));
        out.result(all.map((c) => samlConnectionView(s, tenantId, c)), () =>
          all.length
            ? table(['ID', 'ENABLED', 'PARTNER', 'DOMAINS', 'NAME'], all.map((c) => [c.id, c.enabled ? 'yes' : 'no', c.idp.entityId, c.settings.domains.join(',') || '-', c.displayName]))
            : 'no SAML connections',
        );
      }),
    );

  saml
    .command('show <tenant> <connection>')
    .description('show one SAML connection: settings, the partner as trusted, Gatehouse\'s endpoints')
    .action(async (tenantId: string, connectionId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const view = samlConnectionView(s, tenantId, await s.saml.get(await tenantStore(s, tenantId), connectionId));
        out.result(view, () => describe(view));
      }),
    );

  withConnectionOptions(saml.command('update <tenant> <connection>').description('change a SAML connection (only the options given)'))
    .option('--enable', 'offer the connection again')
    .option('--disable', 'stop offering the connection (sign-ins through it are refused)')
    .option('--refresh-metadata', 'fetch the partner\'s metadata URL now')
    .action(async (tenantId: string, connectionId: string, opts: ConnectionOptions & { refreshMetadata?: boolean }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        if (opts.enable && opts.disable) throw new CliUsageError('give --enable or --disable, not both');
        const patch = inputFromOptions(opts);
        if (!Object.keys(patch).length && !opts.refreshMetadata) throw new CliUsageError('nothing to change: give at least one option');
        let updated = await s.saml.get(store, connectionId);
        if (Object.keys(patch).length) updated = await s.saml.update(store, connectionId, patch, operatorActor());
        if (opts.refreshMetadata) {
          await s.saml.refreshMetadata(store, connectionId, operatorActor());
          updated = await s.saml.get(store, connectionId);
        }
        const view = samlConnectionView(s, tenantId, updated);
        out.result(view, () => `updated SAML connection ${connectionId}\n${describe(view)}`);
      }),
    );

  saml
    .command('remove <tenant> <connection>')
    .description('remove a SAML connection (its users stay; they can no longer sign in through it)')
    .action(async (tenantId: string, connectionId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        await s.saml.remove(await tenantStore(s, tenantId), connectionId, operatorActor());
        out.result({ removed: connectionId }, () => `removed SAML connection ${connectionId}`);
      }),
    );

  saml
    .command('metadata <tenant> <connection>')
    .description('print Gatehouse\'s SP metadata for the partner (also served at /t/<tenant>/saml/<connection>/metadata)')
    .option('--out <file>', 'write it to a file instead')
    .action(async (tenantId: string, connectionId: string, opts: { out?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const connection = await s.saml.get(await tenantStore(s, tenantId), connectionId);
        const xml = s.saml.spMetadata(tenantId, connection);
        if (opts.out) {
          writeFileSync(opts.out, xml);
          out.result({ written: opts.out, entityId: s.saml.urls(tenantId, connectionId).entityId }, () => `wrote ${opts.out}`);
        } else if (out.json) {
          out.result({ entityId: s.saml.urls(tenantId, connectionId).entityId, metadata: xml }, () => xml);
        } else {
          process.stdout.write(xml);
        }
      }),
    );
}
