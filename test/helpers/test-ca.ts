import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A throwaway certificate authority for a test run (openssl CLI, ECDSA P-256: quick to make),
 * issuing server certificates for slapd and Samba. Tests configure Gatehouse to trust it, and a
 * second CA to show that a certificate from an untrusted CA is refused.
 */
export interface IssuedCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface TestCa {
  name: string;
  certPath: string;
  certPem: string;
  /** A server certificate for these names (subjectAltName), signed by this CA. */
  issue(fileStem: string, names: { dns?: string[]; ips?: string[] }): IssuedCertificate;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function createTestCa(dir: string, name = 'Gatehouse Test CA'): TestCa {
  mkdirSync(dir, { recursive: true });
  const stem = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const keyPath = path.join(dir, `${stem}.key`);
  const certPath = path.join(dir, `${stem}.pem`);
  openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-sha256', '-subj', `/CN=${name}/O=Gatehouse tests`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  chmodSync(keyPath, 0o600);
  return {
    name,
    certPath,
    certPem: readFileSync(certPath, 'utf8'),
    issue(fileStem, names) {
      const key = path.join(dir, `${fileStem}.key`);
      const csr = path.join(dir, `${fileStem}.csr`);
      const cert = path.join(dir, `${fileStem}.pem`);
      const ext = path.join(dir, `${fileStem}.ext`);
      const san = [...(names.dns ?? []).map((d) => `DNS:${d}`), ...(names.ips ?? []).map((i) => `IP:${i}`)].join(',');
      writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names.dns?.[0] ?? names.ips?.[0] ?? fileStem}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert], dir);
      // Samba refuses a TLS key that others can read.
      chmodSync(key, 0o600);
      return { certPath: cert, keyPath: key, certPem: readFileSync(cert, 'utf8') };
    },
  };
}
