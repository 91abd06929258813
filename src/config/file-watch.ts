// Follows the local config file (`--config FILE`) so a field technician's edit applies without a
// restart. The directory is watched, not the file: editors save by writing a temporary file and
// renaming it over the original, which replaces the inode a file watch would be stuck on. Events are
// debounced (a save is several events) and a change is reported only when the content differs from
// the last one seen, so touching the file or unrelated files in the directory does nothing.
import { type FSWatcher, lstatSync, readFileSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../log.js';

export const DEFAULT_CONFIG_FILE_DEBOUNCE_MS = 250;

export interface ConfigFileWatchOptions {
  log: Logger;
  /** Quiet time after the last event before the file is read again (default 250 ms). */
  debounceMs?: number;
  /** The file's content changed (or it disappeared or came back); read it again. Must not throw. */
  onChange(): void;
}

export interface ConfigFileWatch {
  /** Stops watching. Idempotent. */
  close(): void;
}

function readNow(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Watches `file` for content changes. The content seen at this call is the baseline, so start the
 * watch before reading the file the first time: a change in between is then reported, not missed.
 */
export function watchConfigFile(file: string, options: ConfigFileWatchOptions): ConfigFileWatch {
  const path = resolve(file);
  const name = basename(path);
  // A symlinked file (e.g. a mounted config map swapping a `..data` link) changes without an event
  // naming it: then every event in the directory is a reason to look.
  const anyEvent = isSymlink(path);
  const debounceMs = options.debounceMs ?? DEFAULT_CONFIG_FILE_DEBOUNCE_MS;
  let last = readNow(path);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let reading = false;
  let readAgain = false;

  const check = async (): Promise<void> => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      do {
        readAgain = false;
        const content = await readFile(path, 'utf8').catch(() => undefined);
        if (closed) return;
        if (content === last) continue;
        last = content;
        options.log.info({ file: path, present: content !== undefined }, 'config file changed');
        try {
          options.onChange();
        } catch (err) {
          options.log.error({ err: (err as Error).message }, 'config file: onChange threw');
        }
      } while (readAgain && !closed);
    } finally {
      reading = false;
    }
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, changed) => {
      if (closed) return;
      if (!anyEvent && changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), debounceMs);
    });
    watcher.on('error', (err) => {
      options.log.warn(
        { file: path, err: err.message },
        'config file: watching stopped; later edits need a restart',
      );
      watcher?.close();
    });
  } catch (err) {
    options.log.warn(
      { file: path, err: (err as Error).message },
      'config file: cannot watch it; edits need a restart',
    );
  }

  return {
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
