// Test PKI made with the openssl CLI: a CA, a server certificate for the loopback broker (127.0.0.1 and
// localhost in subjectAltName) and client certificates, like the ones AWS IoT Core hands a device.
// EC P-256 keys: generated in milliseconds, and accepted by both mosquitto (OpenSSL) and the device
// SDK's TLS stack (s2n).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificateAuthority {
  name: string;
  certFile: string;
  keyFile: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  /** Temporary directory holding every file below; remove it with removeTestPki(). */
  dir: string;
  ca: CertificateAuthority;
  /** For the broker: CN=localhost, subjectAltName IP:127.0.0.1 and DNS:localhost. */
  server: IssuedCertificate;
  /** A device certificate the broker accepts (issued by `ca`). */
  client: IssuedCertificate;
  /** A CA the broker does not know, and a client certificate it issued (must be refused). */
  foreignCa: CertificateAuthority;
  foreignClient: IssuedCertificate;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (res.error) throw new Error(`openssl could not run (is it installed?): ${res.error.message}`);
  if (res.status !== 0) throw new Error(`openssl ${args[0]} failed (${res.status}): ${res.stderr}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA valid for two days (tests never live that long; clocks may be a little off). */
export function createCertificateAuthority(dir: string, name: string): CertificateAuthority {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { name, certFile, keyFile };
}

/** Issues a server (TLS server auth, loopback names) or client (TLS client auth) certificate. */
export function issueCertificate(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  kind: 'server' | 'client',
): IssuedCertificate {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  const extensions =
    kind === 'server'
      ? ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']
      : ['extendedKeyUsage=clientAuth'];
  writeFileSync(
    extFile,
    [...extensions, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature'].join('\n') + '\n',
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${name}`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csrFile,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      '-out',
      certFile,
      '-days',
      '2',
      '-extfile',
      extFile,
    ],
    dir,
  );
  return { certFile, keyFile };
}

/** Everything the TLS broker tests need, in a fresh temporary directory. */
export function createTestPki(clientName = 'ggjobs-test-device'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ggjobs-pki-'));
  try {
    const ca = createCertificateAuthority(dir, 'test-ca');
    const foreignCa = createCertificateAuthority(dir, 'foreign-ca');
    return {
      dir,
      ca,
      server: issueCertificate(ca, dir, 'localhost', 'server'),
      client: issueCertificate(ca, dir, clientName, 'client'),
      foreignCa,
      foreignClient: issueCertificate(foreignCa, dir, `${clientName}-foreign`, 'client'),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export function removeTestPki(pki: TestPki | undefined): void {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
}
