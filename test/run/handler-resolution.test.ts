// Which handlers may run: every refusal ends the job REJECTED (before any step runs) with a reason naming the file and the
// problem, and the handler never runs (each test's handler would leave a marker file).
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHandlerName,
  checkOwnershipAndMode,
  defaultHandlerDirectory,
  formatMode,
} from '../../src/run/handler-resolution.js';
import {
  handlerDocument,
  jobRunner,
  makeTempDir,
  recordingContext,
  statusOf,
  writeHandler,
} from './helpers.js';

const NOBODY = 65_534;

async function setup() {
  const dir = await makeTempDir(0o700);
  const marker = join(await makeTempDir(0o700, 'ggjobs-marker-'), 'ran');
  const handler = await writeHandler(dir, 'task.sh', `touch '${marker}'`);
  return { dir, marker, handler, run: jobRunner({ handlerDirectory: dir }) };
}

describe('handler resolution', () => {
  it('runs a handler in the directory (owner root, mode 0700)', async () => {
    const { run, marker } = await setup();
    expect((await run(handlerDocument('task.sh'), recordingContext().context)).status).toBe('SUCCEEDED');
    expect(existsSync(marker)).toBe(true);
  });

  it('refuses a handler name with "../"', async () => {
    const { run, marker } = await setup();
    const outcome = await run(handlerDocument('../task.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      'REJECTED: step "Run": handler "../task.sh" must be a file name inside the handler directory (no "/" or "..")',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses an absolute handler', async () => {
    const { run, handler, marker } = await setup();
    const outcome = await run(handlerDocument(handler), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `REJECTED: step "Run": handler "${handler}" is an absolute path; name a file inside the handler directory`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a symlink that leads out of the directory', async () => {
    const { dir, run, marker } = await setup();
    const outside = await makeTempDir(0o700, 'ggjobs-outside-');
    const target = await writeHandler(outside, 'evil.sh', `touch '${marker}'`);
    await symlink(target, join(dir, 'evil.sh'));
    const outcome = await run(handlerDocument('evil.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `REJECTED: step "Run": handler "evil.sh" resolves to ${target}, outside the handler directory ${dir}`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('follows a symlink that stays inside the directory', async () => {
    const { dir, run, marker } = await setup();
    await symlink(join(dir, 'task.sh'), join(dir, 'alias.sh'));
    expect((await run(handlerDocument('alias.sh'), recordingContext().context)).status).toBe('SUCCEEDED');
    expect(existsSync(marker)).toBe(true);
  });

  it.each([
    [0o777, 'group/other'],
    [0o775, 'group'],
    [0o757, 'other'],
  ])('refuses a handler with mode %s', async (mode, who) => {
    const { run, handler, marker } = await setup();
    await chmod(handler, mode);
    const outcome = await run(handlerDocument('task.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `REJECTED: step "Run": handler ${handler} is mode ${formatMode(mode)} (${who} writable); must be 0755 or stricter`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a group/other-writable handler directory', async () => {
    const { dir, run, marker } = await setup();
    await chmod(dir, 0o777);
    const outcome = await run(handlerDocument('task.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `REJECTED: step "Run": handler directory ${dir} is mode 0777 (group/other writable); must be 0755 or stricter`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a handler owned by another user (nobody)', async () => {
    const { run, handler, marker } = await setup();
    await chown(handler, NOBODY, NOBODY);
    const outcome = await run(handlerDocument('task.sh'), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      `REJECTED: step "Run": handler ${handler} is owned by uid ${NOBODY}; must be owned by root`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a handler directory owned by another user (nobody)', async () => {
    const { dir, run, marker } = await setup();
    await chown(dir, NOBODY, NOBODY);
    const outcome = await run(handlerDocument('task.sh'), recordingContext().context);
    expect(statusOf(outcome)).toContain(`handler directory ${dir} is owned by uid ${NOBODY}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a handler without the execute bit', async () => {
    const { run, handler } = await setup();
    await chmod(handler, 0o600);
    expect(statusOf(await run(handlerDocument('task.sh'), recordingContext().context))).toBe(
      `REJECTED: step "Run": handler ${handler} is not executable (mode 0600); make it 0700 or 0755`,
    );
  });

  it('refuses a handler that is missing or a directory', async () => {
    const { dir, run } = await setup();
    await mkdir(join(dir, 'sub.sh'), { mode: 0o700 });
    expect(statusOf(await run(handlerDocument('gone.sh'), recordingContext().context))).toBe(
      `REJECTED: step "Run": handler "gone.sh" not found in ${dir}`,
    );
    expect(statusOf(await run(handlerDocument('sub.sh'), recordingContext().context))).toBe(
      `REJECTED: step "Run": handler ${join(dir, 'sub.sh')} is not a regular file`,
    );
  });

  it('reports a missing handler directory', async () => {
    const run = jobRunner({ handlerDirectory: '/nonexistent/ggjobs-handlers' });
    expect(statusOf(await run(handlerDocument('x.sh'), recordingContext().context))).toBe(
      'REJECTED: step "Run": handler directory /nonexistent/ggjobs-handlers cannot be used (does not exist)',
    );
  });

  it('uses a non-default `path` only when executor.handlerDirectories lists it, with the same checks', async () => {
    const { dir, run: unlisted, marker } = await setup();
    const other = await makeTempDir(0o755, 'ggjobs-other-');
    await writeHandler(other, 'other.sh', `touch '${marker}'`, 0o755);
    const doc = {
      version: '1.0',
      steps: [{ action: { name: 'Run', type: 'runHandler', input: { handler: 'other.sh', path: other } } }],
    };
    expect(statusOf(await unlisted(doc, recordingContext().context))).toBe(
      `REJECTED: step "Run": handler directory "${other}" is not in executor.handlerDirectories (${dir})`,
    );
    expect(existsSync(marker)).toBe(false);
    const run = jobRunner({ handlerDirectory: dir, handlerDirectories: [other] });
    expect((await run(doc, recordingContext().context)).status).toBe('SUCCEEDED');
    expect(existsSync(marker)).toBe(true);
    await chmod(other, 0o777);
    expect(statusOf(await run(doc, recordingContext().context))).toContain(
      `handler directory ${other} is mode 0777 (group/other writable)`,
    );
  });

  it('rejects the job on a refusal even with ignoreStepFailure', async () => {
    const { dir, run, handler } = await setup();
    await chmod(handler, 0o777);
    const after = join(dir, 'after');
    await writeHandler(dir, 'after.sh', `touch '${after}'`);
    const outcome = await run(
      {
        version: '1.0',
        steps: [
          {
            action: {
              name: 'Unsafe',
              type: 'runHandler',
              input: { handler: 'task.sh' },
              ignoreStepFailure: 'true',
            },
          },
          { action: { name: 'After', type: 'runHandler', input: { handler: 'after.sh' } } },
        ],
      },
      recordingContext().context,
    );
    // Checked for the whole document first: REJECTED before any step.
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.statusDetails.reason).toContain('step "Unsafe"');
    expect(existsSync(after)).toBe(false);
  });
});

describe('the pure checks', () => {
  it('accepts handler files owned by the agent user or root when ggjobs is not root', () => {
    const facts = { mode: 0o100755, uid: 1000, isFile: true, isDirectory: false };
    expect(checkOwnershipAndMode('handler', '/h/x.sh', facts, 1000)).toBeUndefined();
    expect(checkOwnershipAndMode('handler', '/h/x.sh', { ...facts, uid: 0 }, 1000)).toBeUndefined();
    expect(checkOwnershipAndMode('handler', '/h/x.sh', { ...facts, uid: 1001 }, 1000)).toBe(
      'handler /h/x.sh is owned by uid 1001; must be owned by uid 1000 (the user ggjobs runs as) or root',
    );
  });

  it('names handler problems without touching the disk', () => {
    expect(checkHandlerName('install-packages.sh')).toBeUndefined();
    expect(checkHandlerName('..')).toContain('must be a file name');
    expect(checkHandlerName('a/b.sh')).toContain('must be a file name');
  });

  it('formats modes as four octal digits', () => {
    expect(formatMode(0o100755)).toBe('0755');
    expect(formatMode(0o4755)).toBe('4755');
    expect(formatMode(0o7)).toBe('0007');
  });

  it('defaults the handler directory by user', () => {
    expect(defaultHandlerDirectory(0, '/root')).toBe('/etc/ggjobs/handlers');
    expect(defaultHandlerDirectory(1000, '/home/gg')).toBe('/home/gg/.ggjobs/handlers');
  });
});
