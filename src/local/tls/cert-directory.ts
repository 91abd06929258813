// The local stack's TLS directory: `ca.pem`/`ca.key` (the CA devices trust and that signs their
// certificates), `server.pem`/`server.key` (the broker's, for 127.0.0.1 and localhost) and one
// `NAME.pem`/`NAME.key` per device. Files are created when missing and reused when present, so a
// device configured once keeps working across restarts of `ggjobs local --tls`.
// Modes follow what the AWS IoT Device Client insists on: directory 0700, keys 0600, certificates 0644.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { LocalTlsError } from '../../errors.js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  isIssuedBy,
  issueCertificate,
  keyMatchesCertificate,
  loadCertificateAuthority,
  type PemPair,
} from './pki.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key';
export const SERVER_CERT_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server.key';
/** The names the broker's certificate is valid for: devices connect to one of these. */
export const SERVER_NAMES = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };
const CA_COMMON_NAME = 'ggjobs local stack CA';

import { thingNameProblem } from './names.js';

export { defaultTlsDirectory, thingNameProblem } from './names.js';

export interface ServerTls {
  directory: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** PEM text for the TLS listener. */
  ca: string;
  cert: string;
  key: string;
  /** Files written by this call (empty when everything was reused). */
  created: string[];
}

export interface ClientCertificate {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** false when a certificate from this CA was already there and is kept. */
  created: boolean;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LocalTlsError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function write(file: string, text: string, mode: number): Promise<void> {
  try {
    await writeFileAtomic(file, text, { mode });
  } catch (err) {
    throw new LocalTlsError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes a certificate (0644) and its key (0600); the key first, so a certificate never lacks one. */
async function writePair(certFile: string, keyFile: string, pair: PemPair): Promise<void> {
  await write(keyFile, pair.keyPem, 0o600);
  await write(certFile, pair.certPem, 0o644);
}

async function ensureDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new LocalTlsError(`cannot create the TLS directory ${directory}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Loads the directory's CA, creating it when neither file exists. */
async function ensureCertificateAuthority(
  directory: string,
  created: string[],
): Promise<CertificateAuthority> {
  const certFile = join(directory, CA_CERT_FILE);
  const keyFile = join(directory, CA_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (certPem === undefined && keyPem === undefined) {
    const ca = await createCertificateAuthority(CA_COMMON_NAME);
    await writePair(certFile, keyFile, ca);
    created.push(certFile, keyFile);
    return ca;
  }
  if (certPem === undefined || keyPem === undefined) {
    const [present, missing] = certPem === undefined ? [keyFile, certFile] : [certFile, keyFile];
    throw new LocalTlsError(
      `${present} exists but ${missing} does not: restore it, or remove ${present} to have a new CA ` +
        'created (every device certificate it signed must then be issued again)',
    );
  }
  return loadCertificateAuthority(certPem, keyPem, { certFile, keyFile });
}

/** Reuses `certFile`/`keyFile` when they are a matching pair issued by `ca`; else issues new ones. */
async function ensureIssued(
  ca: CertificateAuthority,
  certFile: string,
  keyFile: string,
  issue: () => Promise<PemPair>,
): Promise<{ pair: PemPair; created: boolean }> {
  const [certPem, keyPem] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (
    certPem !== undefined &&
    keyPem !== undefined &&
    keyMatchesCertificate(certPem, keyPem) &&
    (await isIssuedBy(certPem, ca))
  ) {
    return { pair: { certPem, keyPem }, created: false };
  }
  const pair = await issue();
  await writePair(certFile, keyFile, pair);
  return { pair, created: true };
}

/** The CA and the broker's certificate in `directory`, created when missing and reused when present. */
export async function ensureServerTls(directory: string): Promise<ServerTls> {
  return (await ensureServerTlsAndCa(directory)).tls;
}

async function ensureServerTlsAndCa(
  directory: string,
): Promise<{ tls: ServerTls; ca: CertificateAuthority }> {
  await ensureDirectory(directory);
  const created: string[] = [];
  const ca = await ensureCertificateAuthority(directory, created);
  const serverCertFile = join(directory, SERVER_CERT_FILE);
  const serverKeyFile = join(directory, SERVER_KEY_FILE);
  const server = await ensureIssued(ca, serverCertFile, serverKeyFile, () =>
    issueCertificate(ca, 'server', 'localhost', SERVER_NAMES),
  );
  if (server.created) created.push(serverCertFile, serverKeyFile);
  const tls: ServerTls = {
    directory,
    caFile: join(directory, CA_CERT_FILE),
    serverCertFile,
    serverKeyFile,
    ca: ca.certPem,
    cert: server.pair.certPem,
    key: server.pair.keyPem,
    created,
  };
  return { tls, ca };
}

/**
 * A device certificate `THING.pem` / `THING.key` in `directory`, signed by its CA (the CA and the
 * broker's certificate are created first when missing), for a client that connects as `thingName`.
 */
export async function ensureClientCertificate(
  directory: string,
  thingName: string,
): Promise<ClientCertificate> {
  const problem = thingNameProblem(thingName);
  if (problem) throw new LocalTlsError(`thing name '${thingName}': ${problem}`);
  const { tls, ca } = await ensureServerTlsAndCa(directory);
  const caFile = tls.caFile;
  const certFile = join(directory, `${thingName}.pem`);
  const keyFile = join(directory, `${thingName}.key`);
  const { created } = await ensureIssued(ca, certFile, keyFile, () =>
    issueCertificate(ca, 'client', thingName),
  );
  return { caFile, certFile, keyFile, created };
}
