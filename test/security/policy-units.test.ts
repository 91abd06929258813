// The pure decisions behind the allowlists, each rule on its own: ancestors, download confinement,
// URL schemes, URL redaction for logs, and the `ggjobs local` exposure warning (also seen through the CLI).
import { describe, expect, it } from 'vitest';
import { exposureWarning } from '../../src/cli/commands/local.js';
import {
  checkDestinationText,
  checkDownloadUrl,
  downloadDirectoriesOf,
} from '../../src/run/download-policy.js';
import { ancestorsOf, checkAncestor, isWithin } from '../../src/run/trusted-path.js';
import { redactUrl } from '../../src/redact-url.js';
import { startCli } from '../cli/run-cli.js';

describe('ancestor checks', () => {
  it('lists every directory from / down', () => {
    expect(ancestorsOf('/opt/site/handlers')).toEqual(['/', '/opt', '/opt/site', '/opt/site/handlers']);
    expect(ancestorsOf('/')).toEqual(['/']);
  });

  it('accepts root or the agent user, not group/other writable; sticky is not enough', () => {
    expect(checkAncestor('/opt', { uid: 0, mode: 0o40755 }, 0)).toBeUndefined();
    expect(checkAncestor('/home/gg', { uid: 1000, mode: 0o40700 }, 1000)).toBeUndefined();
    expect(checkAncestor('/home/x', { uid: 1001, mode: 0o40755 }, 1000)).toBe(
      '/home/x is owned by uid 1001; it must be owned by root or uid 1000 (the user ggjobs runs as)',
    );
    expect(checkAncestor('/tmp', { uid: 0, mode: 0o41777 }, 0)).toBe(
      '/tmp is mode 1777 (group/other writable; the sticky bit is not enough)',
    );
    expect(checkAncestor('/srv', { uid: 0, mode: 0o40775 }, 0)).toBe('/srv is mode 0775 (group writable)');
  });

  it('isWithin compares whole path segments', () => {
    expect(isWithin('/a/b/c', '/a/b')).toBe(true);
    expect(isWithin('/a/bc', '/a/b')).toBe(false);
    expect(isWithin('/a/b/../x', '/a/b')).toBe(false);
    expect(isWithin('/a/b/..x', '/a/b')).toBe(true);
  });
});

describe('download policy', () => {
  const policy = { directories: ['/var/lib/ggjobs/downloads', '/opt/fw/'], allowFileUrls: false };

  it('defaults to <stateDirectory>/downloads', () => {
    expect(downloadDirectoriesOf(undefined, '/var/lib/ggjobs')).toEqual(['/var/lib/ggjobs/downloads']);
    expect(downloadDirectoriesOf([], '/s')).toEqual(['/s/downloads']);
    expect(downloadDirectoriesOf(['/x'], '/s')).toEqual(['/x']);
  });

  it('confines destinations by their normalized text', () => {
    expect(checkDestinationText('/opt/fw/a/b.bin', policy)).toEqual({ ok: true, directory: '/opt/fw' });
    for (const bad of [
      '/etc/passwd',
      '/opt/fw',
      '/opt/fw/../x',
      '/opt/fwx/a',
      '/var/lib/ggjobs/downloads/../../x',
    ])
      expect(checkDestinationText(bad, policy)).toEqual({
        ok: false,
        reason: `destination ${bad} is outside executor.downloadDirectories (/var/lib/ggjobs/downloads, /opt/fw/)`,
      });
  });

  it('refuses file: URLs unless allowed, and other schemes always', () => {
    expect(checkDownloadUrl('https://x/y', policy)).toBeUndefined();
    expect(checkDownloadUrl('file:///etc/shadow', policy)).toBe(
      'file: URLs are refused on this device (executor.allowFileUrls is false)',
    );
    expect(checkDownloadUrl('file:///etc/hostname', { ...policy, allowFileUrls: true })).toBeUndefined();
    expect(checkDownloadUrl('ftp://x/y', policy)).toBe('url scheme ftp: is not allowed');
  });
});

describe('secrets in URLs', () => {
  it('removes userinfo and keeps the rest', () => {
    expect(redactUrl('mqtt://user:pa55@broker.local:1883')).toBe('mqtt://broker.local:1883');
    expect(redactUrl('mqtts://token@broker.local:8883/')).toBe('mqtts://broker.local:8883/');
    expect(redactUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(redactUrl('mqtt://user:pa55@[not')).toBe('(invalid URL)');
  });
});

describe('ggjobs local exposure warning', () => {
  it('warns for any non-loopback address', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'my-laptop.lan'])
      expect(exposureWarning(host)).toMatch(/WARNING: listening on .*NO authentication/);
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost'])
      expect(exposureWarning(host)).toBeUndefined();
  });

  it('prints nothing extra on loopback (the CLI)', async () => {
    const { child, output, exited } = startCli([
      'local',
      '--host',
      '127.0.0.1',
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--json',
    ]);
    await expect.poll(() => output.stdout, { timeout: 30_000 }).toContain('mqttUrl');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.stderr).not.toContain('WARNING');
  });
});
