// The local stack's TLS directory as a user finds it on disk: a CA, the broker's certificate for the
// loopback names and device certificates, checked with Node's own X509Certificate (not the library
// that made them); created when missing, reused when present, never written outside the directory.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTlsError } from '../../src/errors.js';
import {
  defaultTlsDirectory,
  ensureClientCertificate,
  ensureServerTls,
  thingNameProblem,
} from '../../src/local/tls/cert-directory.js';

let work: string;
let dir: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'ggjobs-tls-dir-'));
  dir = join(work, 'tls');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function certificate(file: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(file));
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe('the TLS directory', () => {
  it('creates a CA and a broker certificate for 127.0.0.1 and localhost, with the modes device clients insist on', async () => {
    const tls = await ensureServerTls(dir);
    expect((await readdir(dir)).sort()).toEqual(['ca.key', 'ca.pem', 'server.key', 'server.pem']);
    expect(tls.created.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'ca.key',
      'ca.pem',
      'server.key',
      'server.pem',
    ]);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, 'ca.key'))).toBe(0o600);
    expect(await mode(join(dir, 'server.key'))).toBe(0o600);
    expect(await mode(join(dir, 'ca.pem'))).toBe(0o644);
    expect(await mode(join(dir, 'server.pem'))).toBe(0o644);

    const ca = await certificate(join(dir, 'ca.pem'));
    const server = await certificate(join(dir, 'server.pem'));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkHost('example.com')).toBeUndefined();
    expect(new Date(server.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
    // The key on disk is the certificate's.
    const serverKey = createPrivateKey(await readFile(join(dir, 'server.key')));
    expect(createPublicKey(serverKey).export({ type: 'spki', format: 'pem' })).toBe(
      server.publicKey.export({ type: 'spki', format: 'pem' }),
    );
    expect(await readFile(join(dir, 'server.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reuses every file that is present, and re-issues a broker certificate the CA did not sign', async () => {
    await ensureServerTls(dir);
    const before = await readFile(join(dir, 'ca.pem'), 'utf8');
    const server = await readFile(join(dir, 'server.pem'), 'utf8');
    const again = await ensureServerTls(dir);
    expect(again.created).toEqual([]);
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(before);
    expect(await readFile(join(dir, 'server.pem'), 'utf8')).toBe(server);

    // A broker certificate from some other CA: replaced by one from this directory's CA.
    const other = await ensureServerTls(join(work, 'other'));
    await writeFile(join(dir, 'server.pem'), other.cert);
    await writeFile(join(dir, 'server.key'), other.key);
    const repaired = await ensureServerTls(dir);
    expect(repaired.created.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['server.key', 'server.pem']);
    expect(
      (await certificate(join(dir, 'server.pem'))).checkIssued(await certificate(join(dir, 'ca.pem'))),
    ).toBe(true);
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(before);
  });

  it('refuses a CA certificate without its key (and the reverse) instead of replacing the CA', async () => {
    await ensureServerTls(dir);
    const caPem = await readFile(join(dir, 'ca.pem'), 'utf8');
    await unlink(join(dir, 'ca.key'));
    const err = await ensureServerTls(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalTlsError);
    expect((err as LocalTlsError).code).toBe('GGJOBS_ERR_LOCAL_TLS');
    expect((err as Error).message).toContain(`${join(dir, 'ca.key')} does not`);
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(caPem);

    await writeFile(join(dir, 'ca.key'), 'not a key\n');
    await expect(ensureServerTls(dir)).rejects.toThrow(/ca\.key: not a usable PEM private key/);

    const other = await ensureServerTls(join(work, 'other'));
    await writeFile(join(dir, 'ca.key'), await readFile(join(work, 'other', 'ca.key')));
    await expect(ensureServerTls(dir)).rejects.toThrow(/ca\.key is not the private key of the certificate/);
    expect(other.created).toHaveLength(4);
  });

  it('issues device certificates signed by the CA, for TLS client auth, reused on the next call', async () => {
    const issued = await ensureClientCertificate(dir, 'core-1');
    expect(issued).toEqual({
      caFile: join(dir, 'ca.pem'),
      certFile: join(dir, 'core-1.pem'),
      keyFile: join(dir, 'core-1.key'),
      created: true,
    });
    expect(await mode(issued.keyFile)).toBe(0o600);
    const ca = await certificate(issued.caFile);
    const device = await certificate(issued.certFile);
    expect(device.checkIssued(ca)).toBe(true);
    expect(device.verify(ca.publicKey)).toBe(true);
    expect(device.subject).toBe('CN=core-1');
    expect(device.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);

    const pem = await readFile(issued.certFile, 'utf8');
    const again = await ensureClientCertificate(dir, 'core-1');
    expect(again.created).toBe(false);
    expect(await readFile(issued.certFile, 'utf8')).toBe(pem);
  });

  it('refuses names that are not thing names or would overwrite the stack files', async () => {
    for (const name of ['../escape', 'a/b', '', 'x'.repeat(129), 'with space', 'ca', 'server']) {
      expect(thingNameProblem(name), name).toBeDefined();
      await expect(ensureClientCertificate(dir, name)).rejects.toBeInstanceOf(LocalTlsError);
    }
    expect(thingNameProblem('Core_1:site-a')).toBeUndefined();
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it("lives in the user's cache directory by default", () => {
    expect(defaultTlsDirectory({ XDG_CACHE_HOME: '/var/cache/u' }, '/home/u', 'linux')).toBe(
      '/var/cache/u/ggjobs/local-tls',
    );
    expect(defaultTlsDirectory({}, '/home/u', 'linux')).toBe('/home/u/.cache/ggjobs/local-tls');
    expect(defaultTlsDirectory({ XDG_CACHE_HOME: 'relative' }, '/home/u', 'linux')).toBe(
      '/home/u/.cache/ggjobs/local-tls',
    );
    expect(defaultTlsDirectory({}, '/Users/u', 'darwin')).toBe('/Users/u/Library/Caches/ggjobs/local-tls');
  });
});
