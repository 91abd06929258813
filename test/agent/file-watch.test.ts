// watchConfigFile: edits of the config file are noticed however they are saved (in place, or a temp
// file renamed over it), other files in the same directory are not, and close() ends the watch.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigFileWatch, watchConfigFile } from '../../src/config/file-watch.js';
import { silentLogger } from '../../src/log.js';
import { saveAtomically, waitFor } from './helpers.js';

describe('watchConfigFile', () => {
  let dir: string;
  let file: string;
  let watch: ConfigFileWatch | undefined;
  let seen: Array<string | undefined>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ggjobs-file-watch-'));
    file = join(dir, 'ggjobs.yaml');
    await writeFile(file, 'jobId: one\n');
    seen = [];
  });

  afterEach(async () => {
    watch?.close();
    watch = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function start(): void {
    watch = watchConfigFile(file, {
      log: silentLogger(),
      debounceMs: 20,
      // What the file holds when the change is reported (what a reload reads), undefined when gone.
      onChange: () => seen.push(existsSync(file) ? readFileSync(file, 'utf8') : undefined),
    });
  }

  it('reports an editor-style save (temporary file renamed over the original)', async () => {
    start();
    await saveAtomically(file, 'jobId: two\n');
    await waitFor(() => seen.includes('jobId: two\n'), 'the change');
    await saveAtomically(file, 'jobId: three\n');
    await waitFor(() => seen.includes('jobId: three\n'), 'the second change');
  });

  it('reports an in-place write', async () => {
    start();
    await writeFile(file, 'jobId: two\n');
    await waitFor(() => seen.includes('jobId: two\n'), 'the change');
  });

  it('ignores other files in the directory and saves that keep the content', async () => {
    start();
    await writeFile(join(dir, 'other.yaml'), 'jobId: other\n');
    await saveAtomically(file, 'jobId: one\n'); // same content
    await saveAtomically(file, 'jobId: two\n');
    await waitFor(() => seen.includes('jobId: two\n'), 'the change');
    expect(seen).toEqual(['jobId: two\n']);
  });

  it('reports the file disappearing and coming back', async () => {
    start();
    await unlink(file);
    await waitFor(() => seen.length === 1, 'the removal');
    expect(seen).toEqual([undefined]);
    await writeFile(file, 'jobId: back\n');
    await waitFor(() => seen.includes('jobId: back\n'), 'the return');
  });

  it('reports nothing after close()', async () => {
    start();
    watch?.close();
    await writeFile(file, 'jobId: closed\n');
    // A later watch on the same file proves the write happened and was observable.
    const later: string[] = [];
    const second = watchConfigFile(file, {
      log: silentLogger(),
      debounceMs: 20,
      onChange: () => later.push('x'),
    });
    await writeFile(file, 'jobId: after\n');
    await waitFor(() => later.length > 0, 'the second watch to see the next write');
    second.close();
    expect(seen).toEqual([]);
  });
});
