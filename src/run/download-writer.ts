// Writes a download as the step's runAsUser. The agent (root) fetches and hashes; a small Node process
// started with the user's uid/gid creates the missing directories, writes a temporary file next to
// the destination, fsyncs it, checks the SHA-256 and renames it into place. Every file-system change
// is therefore made with the user's permissions: a document cannot use runAsUser to make root write
// where the user could not, and the user never finds a root-owned file where they asked for one.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { DownloadError } from '../errors.js';

/** The writer, run as `node -e WRITER dest sha256`. Exit 0 = renamed into place; else stderr says why. */
const WRITER = String.raw`
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const [dest, expected] = process.argv.slice(1);
const dir = path.dirname(dest);
const tmp = path.join(dir, '.' + path.basename(dest) + '.' + crypto.randomBytes(6).toString('hex') + '.ggjobs-part');
let fd;
const fail = (msg, code) => { try { if (fd !== undefined) fs.closeSync(fd); fs.unlinkSync(tmp); } catch {} process.stderr.write(msg); process.exit(code); };
process.on('SIGTERM', () => fail('aborted', 143));
try {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
} catch (e) { fail(e.code || String(e), 2); }
const hash = crypto.createHash('sha256');
process.stdin.on('data', (b) => { hash.update(b); try { fs.writeSync(fd, b); } catch (e) { fail(e.code || String(e), 2); } });
process.stdin.on('end', () => {
  try {
    fs.fsyncSync(fd); fs.closeSync(fd); fd = undefined;
    const actual = hash.digest('hex');
    if (actual !== expected) fail('sha256 ' + actual, 3);
    fs.renameSync(tmp, dest);
    try { const d = fs.openSync(dir, 'r'); fs.fsyncSync(d); fs.closeSync(d); } catch {}
  } catch (e) { fail(e.code || String(e), 2); }
});
`;

export interface WriteAsUserRequest {
  source: AsyncIterable<unknown>;
  destination: string;
  sha256: string;
  maxBytes: number;
  runAs: { uid: number; gid: number };
  signal: AbortSignal;
  /** The URL as it may be shown. */
  where: string;
}

/** Streams `source` into the writer; resolves with the byte count once the file is in place. */
export async function writeAsUser(req: WriteAsUserRequest): Promise<number> {
  const child = spawn(process.execPath, ['-e', WRITER, req.destination, req.sha256], {
    uid: req.runAs.uid,
    gid: req.runAs.gid,
    cwd: '/',
    env: {},
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  // A writer that died (EACCES, ENOSPC) closes its stdin; the exit code says why, not EPIPE.
  child.stdin.on('error', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-500);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  const stop = () => child.kill('SIGTERM');
  req.signal.addEventListener('abort', stop, { once: true });
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    try {
      for await (const chunk of req.source) {
        const data = chunk as Buffer;
        bytes += data.length;
        if (bytes > req.maxBytes) {
          stop();
          throw new DownloadError(
            `${req.where} is larger than executor.maxDownloadBytes (${req.maxBytes} bytes)`,
          );
        }
        hash.update(data);
        if (!child.stdin.write(data)) await Promise.race([once(child.stdin, 'drain'), exited]);
        if (child.exitCode !== null) break;
      }
    } catch (err) {
      stop();
      throw err;
    }
    child.stdin.end();
    const code = await exited;
    if (code === 0) return bytes;
    if (code === 3)
      throw new DownloadError(
        `sha256 mismatch for ${req.where}: expected ${req.sha256}, got ${hash.digest('hex')}`,
      );
    throw new DownloadError(
      `writing ${req.destination} as uid ${req.runAs.uid} failed (${stderr.trim() || `exit code ${code}`})`,
    );
  } finally {
    req.signal.removeEventListener('abort', stop);
    child.stdin.destroy();
  }
}
