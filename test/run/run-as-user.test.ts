// runAsUser: root starts the step with the user's uid/gid; a non-root agent runs steps only as itself.
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookupUser, parsePasswd, resolveRunUser, type UserAccount } from '../../src/run/users.js';
import {
  handlerDocument,
  jobRunner,
  makeTempDir,
  recordingContext,
  statusOf,
  writeHandler,
} from './helpers.js';

const ggc: UserAccount = { name: 'ggc_user', uid: 1000, gid: 1000, home: '/home/ggc_user' };

describe('runAsUser with ggjobs running as root', () => {
  it('runs the handler as nobody, with nobody passed as the first argument', async () => {
    const dir = await makeTempDir(0o755);
    const outDir = await makeTempDir(0o777, 'ggjobs-out-');
    const out = join(outDir, 'who');
    await writeHandler(
      dir,
      'whoami.sh',
      `printf '%s %s %s %s' "$(id -u)" "$(id -g)" "$1" "$HOME" > '${out}'`,
      0o755,
    );
    const run = jobRunner({ handlerDirectory: dir });
    const outcome = await run(
      handlerDocument('whoami.sh', [], { runAsUser: 'nobody' }),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
    const nobody = await lookupUser('nobody');
    expect(await readFile(out, 'utf8')).toBe(`${nobody!.uid} ${nobody!.gid} nobody ${nobody!.home}`);
  });

  it('says why when the user cannot execute the handler', async () => {
    const dir = await makeTempDir(0o755);
    const handler = await writeHandler(dir, 'private.sh', 'exit 0', 0o700);
    await chmod(handler, 0o700);
    const run = jobRunner({ handlerDirectory: dir });
    const outcome = await run(
      handlerDocument('private.sh', [], { runAsUser: 'nobody' }),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe(
      `FAILED: step "Run" could not start ${handler}: permission denied (runAsUser "nobody" must be able to read and execute it)`,
    );
  });

  it('refuses a user that does not exist', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'x.sh', 'exit 0');
    const run = jobRunner({ handlerDirectory: dir });
    const outcome = await run(
      handlerDocument('x.sh', [], { runAsUser: 'no_such_user_42' }),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe(
      'FAILED: step "Run": runAsUser "no_such_user_42" does not exist on this device',
    );
  });
});

describe('runAsUser with ggjobs running as another user', () => {
  it('refuses a different user', async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'ran');
    await writeHandler(dir, 'x.sh', `touch '${marker}'`);
    const run = jobRunner({ handlerDirectory: dir }, { agent: ggc });
    const outcome = await run(handlerDocument('x.sh', [], { runAsUser: 'root' }), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      'FAILED: step "Run": runAsUser "root" needs ggjobs to run as root; it runs as "ggc_user" (uid 1000)',
    );
  });

  it('runs the step normally when runAsUser names the agent user or is empty', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'x.sh', 'exit 0');
    const run = jobRunner({ handlerDirectory: dir }, { agent: ggc });
    for (const runAsUser of ['ggc_user', '']) {
      const outcome = await run(handlerDocument('x.sh', [], { runAsUser }), recordingContext().context);
      expect(outcome.status, runAsUser).toBe('SUCCEEDED');
    }
  });
});

describe('user lookup', () => {
  it('finds users through getent and parses passwd lines', async () => {
    expect(await lookupUser('root')).toEqual({ name: 'root', uid: 0, gid: 0, home: '/root' });
    expect(await lookupUser('no_such_user_42')).toBeUndefined();
    expect(parsePasswd('a:x:1:2::/h/a:/bin/sh\nbad line\nb:x:7:8:B:/h/b:/bin/sh\n', 'b')).toEqual({
      name: 'b',
      uid: 7,
      gid: 8,
      home: '/h/b',
    });
  });

  it('decides without I/O', () => {
    const nobody: UserAccount = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };
    const root: UserAccount = { name: 'root', uid: 0, gid: 0, home: '/root' };
    expect(resolveRunUser('nobody', root, nobody, 's')).toEqual({
      ok: true,
      account: nobody,
      switchTo: { uid: 65534, gid: 65534 },
    });
    expect(resolveRunUser('', root, undefined, 's')).toEqual({ ok: true, account: root });
    expect(resolveRunUser('nobody', ggc, nobody, 's').ok).toBe(false);
  });
});
