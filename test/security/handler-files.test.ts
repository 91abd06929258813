// Attack family: handler files and directories that someone other than root or the agent's user
// could change between the check and the exec. A symlink out of the handler directory, a symlinked or
// group-writable ancestor, a directory under sticky /tmp, group- and world-writable handlers and a
// handler owned by another user: each is REJECTED before anything runs, naming what failed.
import { chown, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackBench, handlerStep, mkdirMode, ran, startAttackBench } from './harness.js';

const NOBODY = 65_534;
let bench: AttackBench;
beforeAll(async () => {
  bench = await startAttackBench();
});
afterAll(async () => {
  await bench?.close();
});

/** A handler `name` in `dir` that leaves `marker`. */
const markerHandler = (dir: string, name: string, marker: string, mode?: number) =>
  bench.handler(dir, name, `touch '${marker}'`, mode);

describe('attack: handler directory contents', () => {
  it('a symlink in the handler directory pointing outside it is REJECTED', async () => {
    const marker = bench.marker();
    const outside = await mkdirMode(join(bench.safe, 'outside'), 0o700);
    const target = await markerHandler(outside, 'evil.sh', marker);
    await symlink(target, join(bench.handlers, 'evil.sh'));
    const outcome = await bench.deliver(handlerStep('evil.sh'));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      `step "Attack": handler "evil.sh" resolves to ${target}, outside the handler directory ${bench.handlers}`,
    );
    expect(ran(marker)).toBe(false);
  });

  it.each([
    ['0777', 'group/other'],
    ['0775', 'group'],
    ['0757', 'other'],
  ])('a handler with mode %s (%s writable) is REJECTED', async (octal, who) => {
    const mode = Number.parseInt(octal, 8);
    const marker = bench.marker();
    const name = `writable-${mode.toString(8)}.sh`;
    const file = await markerHandler(bench.handlers, name, marker, mode);
    const outcome = await bench.deliver(handlerStep(name));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      `step "Attack": handler ${file} is mode ${octal} (${who} writable); must be 0755 or stricter`,
    );
    expect(ran(marker)).toBe(false);
  });

  it('a handler owned by another user (nobody) is REJECTED', async () => {
    const marker = bench.marker();
    const file = await markerHandler(bench.handlers, 'nobodys.sh', marker, 0o755);
    await chown(file, NOBODY, NOBODY);
    const outcome = await bench.deliver(handlerStep('nobodys.sh'));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain(`handler ${file} is owned by uid ${NOBODY}`);
    expect(ran(marker)).toBe(false);
  });
});

describe('attack: untrusted ancestors of a listed handler directory', () => {
  it('a group-writable ancestor is REJECTED, naming that ancestor', async () => {
    const marker = bench.marker();
    const shared = await mkdirMode(join(bench.safe, 'shared'), 0o775);
    const dir = await mkdirMode(join(shared, 'site', 'handlers'), 0o700);
    await mkdirMode(join(shared, 'site'), 0o755);
    await markerHandler(dir, 'task.sh', marker);
    const outcome = await bench.deliver(handlerStep('task.sh', [], { path: dir }), {
      handlerDirectories: [dir],
    });
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      `step "Attack": handler directory ${dir} is not safe: ${shared} is mode 0775 (group writable)`,
    );
    expect(ran(marker)).toBe(false);
  });

  it('a symlinked ancestor is judged by where it leads: into a group-writable directory is REJECTED', async () => {
    const marker = bench.marker();
    const shared = await mkdirMode(join(bench.safe, 'shared-2'), 0o770);
    const real = await mkdirMode(join(shared, 'handlers'), 0o700);
    await markerHandler(real, 'task.sh', marker);
    await symlink(shared, join(bench.safe, 'vendor'));
    const listed = join(bench.safe, 'vendor', 'handlers');
    const outcome = await bench.deliver(handlerStep('task.sh', [], { path: listed }), {
      handlerDirectories: [listed],
    });
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      `step "Attack": handler directory ${real} is not safe: ${shared} is mode 0770 (group writable)`,
    );
    expect(ran(marker)).toBe(false);
  });

  it('a handler directory under sticky /tmp is REJECTED: the sticky bit is not enough', async () => {
    const marker = bench.marker();
    const dir = await mkdtemp(join(tmpdir(), 'ggjobs-sticky-'));
    try {
      await markerHandler(dir, 'task.sh', marker);
      const outcome = await bench.deliver(handlerStep('task.sh', [], { path: dir }), {
        handlerDirectories: [dir],
      });
      expect(outcome.status).toBe('REJECTED');
      expect(outcome.reason).toMatch(
        new RegExp(
          `handler directory ${dir} is not safe: /tmp is mode 1777 \\(group/other writable; the sticky bit is not enough\\)`,
        ),
      );
      expect(ran(marker)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('control: the same handler in a directory with trusted ancestors runs', async () => {
    const marker = bench.marker();
    const dir = await mkdirMode(join(bench.safe, 'trusted', 'handlers'), 0o700);
    await markerHandler(dir, 'task.sh', marker);
    const outcome = await bench.deliver(handlerStep('task.sh', [], { path: dir }), {
      handlerDirectories: [dir],
    });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(ran(marker)).toBe(true);
  });
});
