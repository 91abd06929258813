// One line of `ggjobs doctor`: what was checked, whether it passed, what was found and, when it
// failed, what to do about it.

export interface CheckResult {
  /** What is checked, e.g. `state directory writable`. */
  name: string;
  ok: boolean;
  /** What was found (the value, the reason it failed). */
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

export function passed(name: string, detail: string): CheckResult {
  return { name, ok: true, detail };
}

export function failed(name: string, detail: string, fix: string): CheckResult {
  return { name, ok: false, detail, fix };
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `ok      name: detail` / `FAILED  name: detail` + `        fix: ...`, then a summary line. */
export function formatChecks(checks: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    const [first = '', ...rest] = c.detail.split('\n');
    lines.push(`${(c.ok ? 'ok' : 'FAILED').padEnd(7)} ${c.name}: ${first}`);
    for (const more of rest) lines.push(`        ${more}`);
    if (!c.ok && c.fix) lines.push(`        fix: ${c.fix}`);
  }
  const bad = checks.filter((c) => !c.ok).length;
  lines.push('');
  lines.push(bad === 0 ? `all ${checks.length} checks passed` : `${bad} of ${checks.length} checks FAILED`);
  return `${lines.join('\n')}\n`;
}
