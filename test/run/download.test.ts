// The `download` step: verified by SHA-256, atomic, nothing left behind on failure. Served from a
// loopback HTTP server and from file: URLs.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobAbortedError } from '../../src/errors.js';
import { describeUrl } from '../../src/run/download.js';
import { createJobRunner } from '../../src/run/runner.js';
import { safeBase } from '../support/safe-dir.js';
import { cleanup, executorConfig, makeTempDir, recordingContext, statusOf, waitFor } from './helpers.js';

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
const payloadSha = createHash('sha256').update(payload).digest('hex');
const wrongSha = 'f'.repeat(64);

let server: Server;
let base: string;
let slowRequests = 0;
/** Every test directory is a download directory here; file: URLs are allowed (the policy has its own tests). */
let trusting: Record<string, unknown>;

beforeAll(async () => {
  trusting = { downloadDirectories: [safeBase()], allowFileUrls: true };
  server = createServer((req, res) => {
    if (req.url?.startsWith('/firmware.bin')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      res.end(payload);
    } else if (req.url === '/slow.bin') {
      // Sends part of the body, then stalls until the client gives up.
      slowRequests++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      res.write(payload.subarray(0, 1000));
    } else {
      res.writeHead(404).end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(cleanup);

function downloadDocument(url: string, sha256: string, destination: string) {
  return {
    version: '1.0',
    steps: [{ action: { name: 'Fetch', type: 'download', input: { url, sha256, destination } } }],
  };
}

describe('download step', () => {
  it('downloads over HTTP when the digest matches, leaving only the destination', async () => {
    const dir = await makeTempDir();
    const destination = join(dir, 'firmware.bin');
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`${base}/firmware.bin`, payloadSha, destination),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
    expect((await readFile(destination)).equals(payload)).toBe(true);
    expect(await readdir(dir)).toEqual(['firmware.bin']);
  });

  it('accepts the digest in upper case', async () => {
    const dir = await makeTempDir();
    const destination = join(dir, 'firmware.bin');
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`${base}/firmware.bin`, payloadSha.toUpperCase(), destination),
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
  });

  it('fails on a digest mismatch and leaves nothing behind, keeping an existing file', async () => {
    const dir = await makeTempDir();
    const destination = join(dir, 'firmware.bin');
    await writeFile(destination, 'previous version');
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`${base}/firmware.bin`, wrongSha, destination),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe(
      `FAILED: step "Fetch": sha256 mismatch for ${base}/firmware.bin: expected ${wrongSha}, got ${payloadSha}`,
    );
    expect(await readFile(destination, 'utf8')).toBe('previous version');
    expect(await readdir(dir)).toEqual(['firmware.bin']);
  });

  it('creates missing parent directories', async () => {
    const dir = await makeTempDir();
    const destination = join(dir, 'a', 'b', 'firmware.bin');
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`${base}/firmware.bin`, payloadSha, destination),
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect((await stat(destination)).size).toBe(payload.length);
  });

  it('fails on an HTTP error status without creating the file', async () => {
    const dir = await makeTempDir();
    const destination = join(dir, 'missing.bin');
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`${base}/missing.bin`, payloadSha, destination),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe(`FAILED: step "Fetch": download of ${base}/missing.bin answered HTTP 404`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a presigned URL signature out of the reason', async () => {
    const dir = await makeTempDir();
    const url = `${base}/firmware.bin?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=s3cr3t`;
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(url, wrongSha, join(dir, 'f.bin')),
      recordingContext().context,
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toContain(`${base}/firmware.bin?…`);
    expect(outcome.statusDetails.reason).not.toContain('s3cr3t');
    expect(outcome.statusDetails.reason).not.toContain('AKIAEXAMPLE');
  });

  it('refuses a body larger than executor.maxDownloadBytes', async () => {
    const dir = await makeTempDir();
    const run = createJobRunner(executorConfig({ ...trusting, maxDownloadBytes: 1000 }));
    const outcome = await run(
      downloadDocument(`${base}/firmware.bin`, payloadSha, join(dir, 'f.bin')),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toContain('is larger than executor.maxDownloadBytes (1000 bytes)');
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a refused connection as a failure', async () => {
    const dir = await makeTempDir();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument(`http://127.0.0.1:${port}/x`, payloadSha, join(dir, 'f.bin')),
      recordingContext().context,
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toContain('ECONNREFUSED');
    expect(await readdir(dir)).toEqual([]);
  });

  it('copies a file: URL with a matching digest and refuses a mismatching one', async () => {
    const source = await makeTempDir();
    const target = await makeTempDir();
    const file = join(source, 'config.yaml');
    await writeFile(file, payload);
    const url = pathToFileURL(file).href;
    const run = createJobRunner(executorConfig(trusting));
    const good = await run(
      downloadDocument(url, payloadSha, join(target, 'config.yaml')),
      recordingContext().context,
    );
    expect(good.status).toBe('SUCCEEDED');
    expect((await readFile(join(target, 'config.yaml'))).equals(payload)).toBe(true);

    const bad = await run(
      downloadDocument(url, wrongSha, join(target, 'other.yaml')),
      recordingContext().context,
    );
    expect(statusOf(bad)).toContain(`sha256 mismatch for file://${file}`);
    expect(existsSync(join(target, 'other.yaml'))).toBe(false);
    expect(await readdir(target)).toEqual(['config.yaml']);
  });

  it('fails cleanly for a file: URL that does not exist', async () => {
    const target = await makeTempDir();
    const run = createJobRunner(executorConfig(trusting));
    const outcome = await run(
      downloadDocument('file:///nonexistent/ggjobs/x.bin', payloadSha, join(target, 'x.bin')),
      recordingContext().context,
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toContain('ENOENT');
    expect(await readdir(target)).toEqual([]);
  });

  it('gives the file to runAsUser when ggjobs runs as root', async () => {
    // The user must be able to write there: the file is created and written as that user.
    const dir = await makeTempDir(0o777);
    const destination = join(dir, 'firmware.bin');
    const run = createJobRunner(executorConfig({ ...trusting, allowedRunAsUsers: ['root', 'nobody'] }));
    const doc = downloadDocument(`${base}/firmware.bin`, payloadSha, destination);
    (doc.steps[0]!.action as Record<string, unknown>).runAsUser = 'nobody';
    expect((await run(doc, recordingContext().context)).status).toBe('SUCCEEDED');
    expect((await stat(destination)).uid).toBe(65_534);
  });
});

describe('download step timeouts and cancellation', () => {
  it('times out a stalled transfer and removes the partial file', async () => {
    const dir = await makeTempDir();
    const run = createJobRunner(executorConfig(trusting));
    const doc = downloadDocument(`${base}/slow.bin`, payloadSha, join(dir, 'slow.bin'));
    (doc.steps[0]!.action as Record<string, unknown>).timeoutSeconds = 1;
    expect(statusOf(await run(doc, recordingContext().context))).toBe(
      'FAILED: step "Fetch" timed out after 1s',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('on abort, rejects with JobAbortedError and removes the partial file', async () => {
    const dir = await makeTempDir();
    const run = createJobRunner(executorConfig(trusting));
    const { context, controller } = recordingContext();
    const before = slowRequests;
    const running = run(downloadDocument(`${base}/slow.bin`, payloadSha, join(dir, 'slow.bin')), context);
    await waitFor(() => slowRequests > before, 'the stalled download to be requested');
    controller.abort(new Error('job canceled'));
    await expect(running).rejects.toBeInstanceOf(JobAbortedError);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('download step as runAsUser (written by a process running as that user)', () => {
  it('on abort, the writer stops and its partial file is removed', async () => {
    const dir = await makeTempDir(0o777);
    const run = createJobRunner(executorConfig({ ...trusting, allowedRunAsUsers: ['root', 'nobody'] }));
    const { context, controller } = recordingContext();
    const doc = downloadDocument(`${base}/slow.bin`, payloadSha, join(dir, 'slow.bin'));
    (doc.steps[0]!.action as Record<string, unknown>).runAsUser = 'nobody';
    const before = slowRequests;
    const running = run(doc, context);
    await waitFor(() => slowRequests > before, 'the slow download to be requested');
    await waitFor(async () => (await readdir(dir)).length > 0, 'the writer to create its temporary file');
    controller.abort(new Error('job canceled'));
    await expect(running).rejects.toBeInstanceOf(JobAbortedError);
    await waitFor(async () => (await readdir(dir)).length === 0, 'the partial file to be removed');
  });

  it('a digest mismatch leaves nothing behind', async () => {
    const dir = await makeTempDir(0o777);
    const run = createJobRunner(executorConfig({ ...trusting, allowedRunAsUsers: ['root', 'nobody'] }));
    const doc = downloadDocument(`${base}/firmware.bin`, wrongSha, join(dir, 'firmware.bin'));
    (doc.steps[0]!.action as Record<string, unknown>).runAsUser = 'nobody';
    const outcome = await run(doc, recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `FAILED: step "Fetch": sha256 mismatch for ${base}/firmware.bin: expected ${wrongSha}, got ${payloadSha}`,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('describeUrl', () => {
  it('drops the query string and credentials in the authority', () => {
    expect(describeUrl('https://bucket.s3.amazonaws.com/k/f.bin?X-Amz-Signature=abc')).toBe(
      'https://bucket.s3.amazonaws.com/k/f.bin?…',
    );
    expect(describeUrl('https://user:pass@example.com/f')).toBe('https://example.com/f');
    expect(describeUrl('file:///opt/f.bin')).toBe('file:///opt/f.bin');
  });
});
