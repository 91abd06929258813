// Attack family: download steps as a way to write or read files with the agent's privileges. Writes
// outside executor.downloadDirectories (into /etc, into the handler directory, through `..` or a
// symlink), file: URLs (/etc/shadow with its right sha256) while allowFileUrls is false, redirect
// loops, https -> http and http -> file: redirects; and a runAsUser download is written as that user.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackBench, mkdirMode, startAttackBench } from './harness.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const payload = Buffer.from('firmware v2\n'.repeat(1000));
const sha = createHash('sha256').update(payload).digest('hex');
const NOBODY = 65_534;

let bench: AttackBench;
let http: Server;
let https: Server;
let httpBase: string;
let httpsBase: string;
const requests: string[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

beforeAll(async () => {
  const handle = (scheme: string) => (req: { url?: string }, res: import('node:http').ServerResponse) => {
    requests.push(`${scheme}${req.url}`);
    const url = req.url ?? '/';
    if (url === '/payload.bin') res.writeHead(200, { 'content-length': payload.length }).end(payload);
    else if (url.startsWith('/loop'))
      res.writeHead(302, { location: `/loop${Number(url.slice(5) || 0) + 1}` }).end();
    else if (url === '/to-http') res.writeHead(301, { location: `${httpBase}/payload.bin` }).end();
    else if (url === '/to-file') res.writeHead(302, { location: 'file:///etc/hostname' }).end();
    else if (url === '/hops')
      res.writeHead(307, { location: '/hop2' }).end(); // 5 redirects in all
    else if (/^\/hop[2-4]$/.test(url))
      res.writeHead(308, { location: `/hop${Number(url.slice(4)) + 1}` }).end();
    else if (url === '/hop5') res.writeHead(302, { location: '/payload.bin' }).end();
    else res.writeHead(404).end();
  };
  http = createServer(handle('http'));
  https = createHttpsServer(
    { cert: readFileSync(join(FIXTURES, 'loopback.crt')), key: readFileSync(join(FIXTURES, 'loopback.key')) },
    handle('https'),
  );
  httpBase = `http://127.0.0.1:${await listen(http)}`;
  httpsBase = `https://127.0.0.1:${await listen(https)}`;
  // The agent trusts the loopback test certificate, as a device trusts its own CA bundle.
  bench = await startAttackBench(() => ({ NODE_EXTRA_CA_CERTS: join(FIXTURES, 'loopback.crt') }));
});

afterAll(async () => {
  await bench?.close();
  for (const server of [http, https]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
});

const download = (url: string, destination: string, extra: Record<string, unknown> = {}, hash = sha) => ({
  version: '1.0',
  steps: [
    { action: { name: 'Fetch', type: 'download', input: { url, sha256: hash, destination }, ...extra } },
  ],
});

describe('control', () => {
  it('a download into the default download directory succeeds; the directory is created 0700', async () => {
    const destination = join(bench.downloads, 'ok', 'payload.bin');
    const outcome = await bench.deliver(download(`${httpsBase}/payload.bin`, destination));
    expect(outcome.status).toBe('SUCCEEDED');
    expect(readFileSync(destination).equals(payload)).toBe(true);
    expect((await stat(bench.downloads)).mode & 0o777).toBe(0o700);
  });

  it('five redirects are followed', async () => {
    const destination = join(bench.downloads, 'hops.bin');
    const outcome = await bench.deliver(download(`${httpBase}/hops`, destination));
    expect(outcome.status).toBe('SUCCEEDED');
    expect(existsSync(destination)).toBe(true);
  });
});

describe('attack: writing outside the download directories', () => {
  it.each([['/etc/ggjobs-attack.conf'], ['/root/.ssh/authorized_keys']])(
    'destination %s is REJECTED',
    async (destination) => {
      const outcome = await bench.deliver(download(`${httpBase}/payload.bin`, destination));
      expect(outcome.status).toBe('REJECTED');
      expect(outcome.reason).toBe(
        `step "Fetch": destination ${destination} is outside executor.downloadDirectories (${bench.downloads})`,
      );
      expect(existsSync(destination)).toBe(false);
    },
  );

  it('a destination in the handler directory (planting a handler) is REJECTED', async () => {
    const destination = join(bench.handlers, 'planted.sh');
    const outcome = await bench.deliver(download(`${httpBase}/payload.bin`, destination));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain('is outside executor.downloadDirectories');
    expect(existsSync(destination)).toBe(false);
  });

  it('".." out of the download directory is REJECTED', async () => {
    const destination = `${bench.downloads}/../../escaped.bin`;
    const outcome = await bench.deliver(download(`${httpBase}/payload.bin`, destination));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain(`destination ${destination} is outside executor.downloadDirectories`);
    expect(existsSync(join(bench.downloads, '..', '..', 'escaped.bin'))).toBe(false);
  });

  it('a symlink inside the download directory leading out is REJECTED', async () => {
    const outside = await mkdirMode(join(bench.safe, 'outside-downloads'), 0o700);
    await mkdir(bench.downloads, { recursive: true, mode: 0o700 });
    await symlink(outside, join(bench.downloads, 'link'));
    const destination = join(bench.downloads, 'link', 'x.bin');
    const outcome = await bench.deliver(download(`${httpBase}/payload.bin`, destination));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain(
      `destination ${destination} leads to ${outside}, outside executor.downloadDirectories`,
    );
    expect(existsSync(join(outside, 'x.bin'))).toBe(false);
  });
});

describe('attack: reading local files', () => {
  it('file:///etc/shadow with its right sha256 is REJECTED while allowFileUrls is false', async () => {
    // The right digest when the test can read the file (it runs as root in CI), any digest otherwise.
    let shadowSha = 'a'.repeat(64);
    try {
      shadowSha = createHash('sha256').update(readFileSync('/etc/shadow')).digest('hex');
    } catch {
      // not root: the refusal does not depend on the digest
    }
    const destination = join(bench.downloads, 'shadow');
    const outcome = await bench.deliver(download('file:///etc/shadow', destination, {}, shadowSha));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      'step "Fetch": file: URLs are refused on this device (executor.allowFileUrls is false)',
    );
    expect(existsSync(destination)).toBe(false);
  });

  it('control: with allowFileUrls true the operator can copy a local file', async () => {
    const hostname = readFileSync('/etc/hostname');
    const destination = join(bench.downloads, 'hostname');
    const hash = createHash('sha256').update(hostname).digest('hex');
    const outcome = await bench.deliver(download('file:///etc/hostname', destination, {}, hash), {
      allowFileUrls: true,
    });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(readFileSync(destination).equals(hostname)).toBe(true);
  });
});

describe('attack: redirects', () => {
  it('a redirect loop ends FAILED after 5 redirects, writing nothing', async () => {
    const before = requests.filter((r) => r.startsWith('http/loop')).length;
    const destination = join(bench.downloads, 'loop.bin');
    const outcome = await bench.deliver(download(`${httpBase}/loop`, destination));
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toBe(`step "Fetch": ${httpBase}/loop redirected more than 5 times; giving up`);
    expect(requests.filter((r) => r.startsWith('http/loop')).length - before).toBe(6);
    expect(existsSync(destination)).toBe(false);
  });

  it('https -> http is refused: the http URL is never requested', async () => {
    const before = requests.length;
    const destination = join(bench.downloads, 'downgrade.bin');
    const outcome = await bench.deliver(download(`${httpsBase}/to-http`, destination));
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toBe(
      `step "Fetch": ${httpsBase}/to-http redirected from https to http (${httpBase}/payload.bin); refused`,
    );
    expect(requests.slice(before)).toEqual(['https/to-http']);
    expect(existsSync(destination)).toBe(false);
  });

  it('a redirect to file: is refused even when allowFileUrls is true', async () => {
    const destination = join(bench.downloads, 'to-file');
    const outcome = await bench.deliver(download(`${httpBase}/to-file`, destination), {
      allowFileUrls: true,
    });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toContain('redirected to a file: URL; only http(s) is followed');
    expect(existsSync(destination)).toBe(false);
  });
});

describe('attack: runAsUser downloads with root privileges', () => {
  it('the file is created by runAsUser, and where that user cannot write, nothing is written', async () => {
    const open = await mkdirMode(join(bench.safe, 'public'), 0o777);
    const closed = await mkdirMode(join(bench.safe, 'root-only'), 0o700);
    const executor = { downloadDirectories: [open, closed], allowedRunAsUsers: ['root', 'nobody'] };
    const mine = join(open, 'nobody', 'payload.bin');
    const ok = await bench.deliver(
      download(`${httpBase}/payload.bin`, mine, { runAsUser: 'nobody' }),
      executor,
    );
    expect(ok.status).toBe('SUCCEEDED');
    expect((await stat(mine)).uid).toBe(NOBODY);
    expect((await stat(join(open, 'nobody'))).uid).toBe(NOBODY);

    const theirs = join(closed, 'payload.bin');
    const refused = await bench.deliver(
      download(`${httpBase}/payload.bin`, theirs, { runAsUser: 'nobody' }),
      executor,
    );
    expect(refused.status).toBe('FAILED');
    expect(refused.reason).toContain(`writing ${theirs} as uid ${NOBODY} failed (EACCES)`);
    expect(existsSync(theirs)).toBe(false);
  });
});
