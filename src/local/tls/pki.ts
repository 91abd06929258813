// The local stack's certificate authority, made with @peculiar/x509 on Node's WebCrypto (no openssl
// binary, no hand-rolled crypto). EC P-256 keys and ECDSA-SHA256 signatures: generated in
// milliseconds, and accepted by Node's TLS (OpenSSL), the device SDKs' TLS (s2n / aws-lc) and
// mosquitto alike. Keys are written as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"), the form the AWS
// IoT Device Client and the SDKs read. A CA made elsewhere (openssl, EC or RSA) is used as it is.
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { LocalTlsError } from '../../errors.js';

// Node's WebCrypto types (the project compiles without the DOM lib).
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
/** Clocks of the devices that use these certificates may be a little behind the stack's. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Local development certificates: long enough never to expire under a developer's feet. */
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 1825;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** A loaded CA: its certificate and the key that signs what it issues. */
export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  certPem: string;
  signingKey: CryptoKey;
  /** What the CA key signs with (ECDSA or RSASSA-PKCS1-v1_5, SHA-256). */
  signingAlgorithm: Algorithm | EcdsaParams;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A new self-signed CA (CN=`commonName`), allowed to sign end-entity certificates only. */
export async function createCertificateAuthority(
  commonName: string,
): Promise<CertificateAuthority & PemPair> {
  const keys = await newKeyPair();
  const signingAlgorithm: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm,
    ...validity(CA_VALIDITY_DAYS),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = certificate.toString('pem');
  return {
    certificate,
    certPem,
    signingKey: keys.privateKey,
    signingAlgorithm,
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

/** The WebCrypto import parameters for a PEM private key (EC P-256/P-384/P-521 or RSA). */
function importParameters(keyPem: string): {
  importAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  signingAlgorithm: Algorithm | EcdsaParams;
  der: Buffer;
} {
  const key = createPrivateKey(keyPem);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'rsa') {
    return {
      importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
      der,
    };
  }
  const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  const namedCurve = curves[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'ec' && namedCurve) {
    return {
      importAlgorithm: { name: 'ECDSA', namedCurve },
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      der,
    };
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (expected EC or RSA)`);
}

/** Loads a CA from PEM text; `where` names the files in error messages. */
export async function loadCertificateAuthority(
  certPem: string,
  keyPem: string,
  where: { certFile: string; keyFile: string },
): Promise<CertificateAuthority> {
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(certPem);
  } catch (err) {
    throw new LocalTlsError(`${where.certFile}: not a PEM certificate (${(err as Error).message})`, {
      cause: err,
    });
  }
  let signingKey: CryptoKey;
  let signingAlgorithm: Algorithm | EcdsaParams;
  try {
    const params = importParameters(keyPem);
    signingAlgorithm = params.signingAlgorithm;
    signingKey = await crypto.subtle.importKey('pkcs8', params.der, params.importAlgorithm, false, ['sign']);
  } catch (err) {
    throw new LocalTlsError(`${where.keyFile}: not a usable PEM private key (${(err as Error).message})`, {
      cause: err,
    });
  }
  // The key must be the certificate's: its public half must be the certificate's public key.
  if (!keyMatchesCertificate(certPem, keyPem)) {
    throw new LocalTlsError(
      `${where.keyFile} is not the private key of the certificate in ${where.certFile}`,
    );
  }
  return { certificate, certPem, signingKey, signingAlgorithm };
}

export type LeafKind = 'server' | 'client';

/**
 * Issues an end-entity certificate signed by `ca`: for the broker (`server`: TLS server auth, names in
 * subjectAltName) or for a device (`client`: TLS client auth, CN = the thing name).
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  kind: LeafKind,
  commonName: string,
  subjectAltNames: { dns?: string[]; ip?: string[] } = {},
): Promise<PemPair> {
  const keys = await newKeyPair();
  const names: x509.JsonGeneralName[] = [
    ...(subjectAltNames.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(subjectAltNames.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [commonName] }],
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    ...validity(LEAF_VALIDITY_DAYS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Whether `certPem` is a certificate that `ca` signed and that is valid for at least another day. */
export async function isIssuedBy(certPem: string, ca: CertificateAuthority): Promise<boolean> {
  try {
    const certificate = new x509.X509Certificate(certPem);
    if (certificate.notAfter.getTime() < Date.now() + DAY_MS) return false;
    return await certificate.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** Whether `keyPem` is the private key of the certificate in `certPem`. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    const certificate = new x509.X509Certificate(certPem);
    const publicDer = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    return publicDer.equals(Buffer.from(certificate.publicKey.rawData));
  } catch {
    return false;
  }
}
