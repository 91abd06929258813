// runAsUser: a root agent starts the step with the user's uid/gid; a non-root agent runs steps as
// itself, or through sudo (test/run/sudo-steps.test.ts); executor.allowedRunAsUsers decides who at all.
import { existsSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorSchema } from '../../src/config/schema.js';
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
    const run = jobRunner({ handlerDirectory: dir, allowedRunAsUsers: ['root', 'nobody'] });
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
    const run = jobRunner({ handlerDirectory: dir, allowedRunAsUsers: ['root', 'nobody'] });
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
    const run = jobRunner({ handlerDirectory: dir, allowedRunAsUsers: ['root', 'no_such_user_42'] });
    const outcome = await run(
      handlerDocument('x.sh', [], { runAsUser: 'no_such_user_42' }),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe(
      'FAILED: step "Run": runAsUser "no_such_user_42" does not exist on this device',
    );
  });
});

describe('executor.allowedRunAsUsers and defaultRunAsUser', () => {
  it('REJECTS a document naming a user outside the defaults, naming the allowed users', async () => {
    const dir = await makeTempDir(0o755);
    const marker = join(dir, 'ran');
    await writeHandler(dir, 'x.sh', `touch '${marker}'`, 0o755);
    // Standalone root agent: root only.
    const asRoot = jobRunner({ handlerDirectory: dir }, { underGreengrass: false });
    expect(
      statusOf(
        await asRoot(handlerDocument('x.sh', [], { runAsUser: 'nobody' }), recordingContext().context),
      ),
    ).toBe(
      'REJECTED: steps[0].action.runAsUser: runAsUser "nobody" is not allowed on this device; executor.allowedRunAsUsers is [root]',
    );
    // Standalone non-root agent: itself only.
    const asGgc = jobRunner({ handlerDirectory: dir }, { agent: ggc, underGreengrass: false });
    expect(
      statusOf(await asGgc(handlerDocument('x.sh', [], { runAsUser: 'root' }), recordingContext().context)),
    ).toBe(
      'REJECTED: steps[0].action.runAsUser: runAsUser "root" is not allowed on this device; executor.allowedRunAsUsers is [ggc_user]',
    );
    // Greengrass component: root and itself, nobody else.
    const component = jobRunner({ handlerDirectory: dir }, { agent: ggc, underGreengrass: true });
    expect(
      statusOf(
        await component(handlerDocument('x.sh', [], { runAsUser: 'nobody' }), recordingContext().context),
      ),
    ).toBe(
      'REJECTED: steps[0].action.runAsUser: runAsUser "nobody" is not allowed on this device; executor.allowedRunAsUsers is [root, ggc_user]',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('checks finalStep too, and names defaultRunAsUser when runAsUser is empty', async () => {
    const dir = await makeTempDir(0o755);
    await writeHandler(dir, 'x.sh', 'exit 0', 0o755);
    const run = jobRunner({ handlerDirectory: dir, defaultRunAsUser: 'nobody' }, { underGreengrass: false });
    const doc = {
      version: '1.0',
      steps: [{ action: { name: 'A', type: 'runHandler', input: { handler: 'x.sh' }, runAsUser: 'root' } }],
      finalStep: { action: { name: 'B', type: 'runHandler', input: { handler: 'x.sh' } } },
    };
    expect(statusOf(await run(doc, recordingContext().context))).toBe(
      'REJECTED: finalStep.action.runAsUser: runAsUser "" (executor.defaultRunAsUser "nobody") is not allowed on this device; executor.allowedRunAsUsers is [root]',
    );
  });

  it('runs a step with an empty runAsUser as defaultRunAsUser, still passing "" first', async () => {
    const dir = await makeTempDir(0o755);
    const outDir = await makeTempDir(0o777, 'ggjobs-out-');
    const out = join(outDir, 'who');
    await writeHandler(dir, 'whoami.sh', `printf '%s [%s]' "$(id -un)" "$1" > '${out}'`, 0o755);
    const run = jobRunner({
      handlerDirectory: dir,
      allowedRunAsUsers: ['root', 'nobody'],
      defaultRunAsUser: 'nobody',
    });
    const outcome = await run(handlerDocument('whoami.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
    expect(await readFile(out, 'utf8')).toBe('nobody []');
  });

  it('runs the step normally when runAsUser names the agent user or is empty', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'x.sh', 'exit 0');
    const run = jobRunner({ handlerDirectory: dir }, { agent: ggc, underGreengrass: false });
    for (const runAsUser of ['ggc_user', '']) {
      const outcome = await run(handlerDocument('x.sh', [], { runAsUser }), recordingContext().context);
      expect(outcome.status, runAsUser).toBe('SUCCEEDED');
    }
  });

  it('refuses a defaultRunAsUser that allowedRunAsUsers does not list', () => {
    const result = executorSchema.safeParse({ allowedRunAsUsers: ['root'], defaultRunAsUser: 'nobody' });
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'defaultRunAsUser: must be one of executor.allowedRunAsUsers',
    ]);
  });

  it('names the field when the configuration holds something that is not a user name', () => {
    const result = executorSchema.safeParse({
      allowedRunAsUsers: ['root', 'bad user'],
      defaultRunAsUser: '-x',
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual([
      'allowedRunAsUsers.1: must be a user name (1-32 of [A-Za-z0-9_.-], not starting with "-" or ".")',
      'defaultRunAsUser: must be a user name (1-32 of [A-Za-z0-9_.-], not starting with "-" or ".")',
    ]);
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
    expect(resolveRunUser('nobody', ggc, nobody, 's')).toEqual({
      ok: false,
      reason:
        'step "s": runAsUser "nobody" needs ggjobs to run as root or executor.sudo to be true; it runs as "ggc_user" (uid 1000) with executor.sudo false',
    });
    expect(resolveRunUser('nobody', ggc, nobody, 's', true)).toEqual({
      ok: true,
      account: nobody,
      sudoAs: 'nobody',
    });
    expect(resolveRunUser('ggc_user', ggc, undefined, 's', true)).toEqual({ ok: true, account: ggc });
  });
});
