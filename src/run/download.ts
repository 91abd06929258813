// The `download` step (a ggjobs addition): fetch an http(s) or file: URL into `destination`, verified
// against the document's SHA-256. The body is streamed into a temporary file next to the destination
// (same filesystem, so the final rename is atomic), hashed on the way, fsynced, and renamed into place
// only when the digest matches; on a mismatch, error, timeout or abort the temporary file is removed
// and an existing destination is left untouched. URLs are logged and reported without their query
// string, which for presigned S3 URLs carries the signature.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { DownloadError } from '../errors.js';
import { MAX_REDIRECTS } from './download-policy.js';
import { writeAsUser } from './download-writer.js';

export interface DownloadRequest {
  url: string;
  /** Lower-case hex. */
  sha256: string;
  destination: string;
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Create and write the file as this user (root running a step for runAsUser): never a root-owned file. */
  runAs?: { uid: number; gid: number };
  fetch?: typeof fetch;
}

export type DownloadResult =
  { ok: true; bytes: number } | { ok: false; reason: string; aborted?: boolean; timedOut?: boolean };

/** `https://host/path?…`: enough to recognise the source, never the signature. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const base = u.protocol === 'file:' ? `file://${u.pathname}` : `${u.protocol}//${u.host}${u.pathname}`;
    return u.search ? `${base}?…` : base;
  } catch {
    return '(invalid URL)';
  }
}

export async function downloadFile(req: DownloadRequest): Promise<DownloadResult> {
  const where = describeUrl(req.url);
  if (req.signal.aborted) return { ok: false, reason: `download of ${where} was aborted`, aborted: true };
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  const directory = dirname(req.destination);
  const temporary = join(
    directory,
    `.${basename(req.destination)}.${randomBytes(6).toString('hex')}.ggjobs-part`,
  );
  if (req.runAs) return downloadAsUser(req, req.runAs, signal, timeout, where);
  let file: FileHandle | undefined;
  try {
    await mkdir(directory, { recursive: true, mode: 0o755 });
    const source = await openSource(req, signal, where);
    file = await open(temporary, 'wx', 0o644);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of source) {
      const data = chunk as Buffer;
      bytes += data.length;
      if (bytes > req.maxBytes)
        throw new DownloadError(`${where} is larger than executor.maxDownloadBytes (${req.maxBytes} bytes)`);
      hash.update(data);
      await file.write(data);
    }
    await file.sync();
    await file.close();
    file = undefined;
    const actual = hash.digest('hex');
    if (actual !== req.sha256)
      throw new DownloadError(`sha256 mismatch for ${where}: expected ${req.sha256}, got ${actual}`);
    await rename(temporary, req.destination);
    await syncDirectory(directory);
    return { ok: true, bytes };
  } catch (err) {
    await file?.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    if (req.signal.aborted) return { ok: false, reason: `download of ${where} was aborted`, aborted: true };
    if (timeout.aborted) return { ok: false, reason: `download of ${where} timed out`, timedOut: true };
    if (err instanceof DownloadError) return { ok: false, reason: err.message };
    return { ok: false, reason: `download of ${where} to ${req.destination} failed: ${describeError(err)}` };
  }
}

/** The same, but the bytes go to a writer process running as the user (download-writer.ts). */
async function downloadAsUser(
  req: DownloadRequest,
  runAs: { uid: number; gid: number },
  signal: AbortSignal,
  timeout: AbortSignal,
  where: string,
): Promise<DownloadResult> {
  try {
    const source = await openSource(req, signal, where);
    const written = await writeAsUser({
      source,
      destination: req.destination,
      sha256: req.sha256,
      maxBytes: req.maxBytes,
      runAs,
      signal,
      where,
    });
    return { ok: true, bytes: written };
  } catch (err) {
    if (req.signal.aborted) return { ok: false, reason: `download of ${where} was aborted`, aborted: true };
    if (timeout.aborted) return { ok: false, reason: `download of ${where} timed out`, timedOut: true };
    if (err instanceof DownloadError) return { ok: false, reason: err.message };
    return { ok: false, reason: `download of ${where} to ${req.destination} failed: ${describeError(err)}` };
  }
}

async function openSource(
  req: DownloadRequest,
  signal: AbortSignal,
  where: string,
): Promise<AsyncIterable<unknown>> {
  const url = new URL(req.url);
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    const info = await stat(path);
    if (!info.isFile()) throw new DownloadError(`${where} is not a regular file`);
    if (info.size > req.maxBytes)
      throw new DownloadError(`${where} is larger than executor.maxDownloadBytes (${req.maxBytes} bytes)`);
    return createReadStream(path, { signal });
  }
  const response = await fetchFollowing(req, signal, where);
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new DownloadError(`download of ${where} answered HTTP ${response.status}`);
  }
  const length = Number(response.headers.get('content-length'));
  if (Number.isFinite(length) && length > req.maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new DownloadError(`${where} is larger than executor.maxDownloadBytes (${req.maxBytes} bytes)`);
  }
  if (!response.body) return Readable.from([]);
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>, { signal });
}

/**
 * fetch with redirects followed by hand: at most MAX_REDIRECTS, never from https to http, never to a
 * scheme other than http(s) (fetch's own following would allow 20 and https -> http).
 */
async function fetchFollowing(req: DownloadRequest, signal: AbortSignal, where: string): Promise<Response> {
  let url = new URL(req.url);
  for (let hops = 0; ; hops++) {
    const response = await (req.fetch ?? fetch)(url, { signal, redirect: 'manual' });
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return response;
    await response.body?.cancel().catch(() => {});
    if (hops >= MAX_REDIRECTS)
      throw new DownloadError(`${where} redirected more than ${MAX_REDIRECTS} times; giving up`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new DownloadError(`${where} redirected to an invalid URL`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new DownloadError(`${where} redirected to a ${next.protocol} URL; only http(s) is followed`);
    if (url.protocol === 'https:' && next.protocol === 'http:')
      throw new DownloadError(`${where} redirected from https to http (${describeUrl(next.href)}); refused`);
    url = next;
  }
}

/** Makes the rename durable; some filesystems cannot fsync a directory, which is fine. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on some filesystems: the data itself is already synced.
  } finally {
    await handle?.close().catch(() => {});
  }
}

function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  // undici's "fetch failed" keeps the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
  if (e?.cause?.code) return `${e.message}: ${e.cause.code}`;
  return (e instanceof Error ? e.message : String(err)).split('\n')[0]!.slice(0, 200);
}
