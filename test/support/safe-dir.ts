// Handler directories must sit under directories that only root or the agent's user can write, all
// the way up to "/" (src/run/trusted-path.ts); os.tmpdir() (/tmp, mode 1777) never qualifies. Tests
// therefore make their handler directories under a base that does: GGJOBS_TEST_SAFE_DIR when set, else
// (as root) /var/lib/ggjobs-tests/<checkout>, else node_modules/.cache/ggjobs-tests in the checkout,
// else ~/.cache/ggjobs-tests, whichever passes the executor's own check first. The test run's global
// teardown removes the base; each checkout has its own, so two checkouts' runs never remove each
// other's.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkTrustedChain } from '../../src/run/trusted-path.js';
import { ROOT } from '../cli/run-cli.js';

export function safeBaseCandidates(): string[] {
  const fromEnv = process.env.GGJOBS_TEST_SAFE_DIR;
  return [
    ...(fromEnv ? [fromEnv] : []),
    // As root (CI): a root-owned base that every user can traverse, wherever the checkout is (tests
    // run steps as `nobody`, and a checkout below /root or /tmp would not do).
    ...(process.getuid?.() === 0 ? [join('/var/lib/ggjobs-tests', checkoutId())] : []),
    join(ROOT, 'node_modules', '.cache', 'ggjobs-tests'),
    join(homedir(), '.cache', 'ggjobs-tests'),
  ];
}

/** A short name for this checkout (its path, hashed). */
function checkoutId(): string {
  return createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
}

let base: string | undefined;

/** The first candidate that the executor trusts, created (0755) on first use. */
export function safeBase(): string {
  if (base) return base;
  const uid = process.getuid?.() ?? 0;
  const problems: string[] = [];
  for (const candidate of safeBaseCandidates()) {
    try {
      mkdirSync(candidate, { recursive: true, mode: 0o755 });
      const real = realpathSync(candidate);
      const problem = checkTrustedChain(real, uid);
      if (!problem) return (base = real);
      problems.push(`${candidate}: ${problem}`);
    } catch (err) {
      problems.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  throw new Error(
    `no directory for test handler directories passes the executor's ancestor check; set GGJOBS_TEST_SAFE_DIR (${problems.join('; ')})`,
  );
}

/** A fresh directory under the safe base (mode `mode`), by its real path. */
export async function safeTempDir(prefix = 'ggjobs-', mode = 0o700): Promise<string> {
  const dir = mkdtempSync(join(safeBase(), prefix));
  chmodSync(dir, mode);
  return dir;
}

export function removeSafeBases(): void {
  for (const candidate of safeBaseCandidates().slice(process.env.GGJOBS_TEST_SAFE_DIR ? 1 : 0))
    rmSync(candidate, { recursive: true, force: true });
}
