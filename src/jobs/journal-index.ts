// Which jobs have a journal in a state directory (`ggjobs status` without thingName/jobId/namespaceId:
// a technician only knows where the state is). Reads directory names only; changes nothing.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JobIds } from './topics.js';

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
    throw err;
  }
}

/** Every <thing>/<namespace>/<job> journal under `<stateDirectory>/executions` matching the given ids. */
export async function listJournals(stateDirectory: string, filter: Partial<JobIds> = {}): Promise<JobIds[]> {
  const root = join(resolve(stateDirectory), 'executions');
  const found: JobIds[] = [];
  for (const thingDir of await subdirectories(root)) {
    // journalDirectory() writes ':' of thing names as %3A.
    const thingName = thingDir.replace(/%3A/g, ':');
    if (filter.thingName !== undefined && filter.thingName !== thingName) continue;
    for (const namespaceId of await subdirectories(join(root, thingDir))) {
      if (filter.namespaceId !== undefined && filter.namespaceId !== namespaceId) continue;
      for (const jobId of await subdirectories(join(root, thingDir, namespaceId))) {
        if (filter.jobId !== undefined && filter.jobId !== jobId) continue;
        found.push({ thingName, namespaceId, jobId });
      }
    }
  }
  const key = (ids: JobIds) => `${ids.thingName}\0${ids.namespaceId}\0${ids.jobId}`;
  return found.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
