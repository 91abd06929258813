// statusDetails as the Jobs service accepts them, whatever a runner returned: the service rejects the
// whole update (InvalidRequest) for one bad key or value, and a rejected final status is a lost status.
// Limits (jobs-protocol.md): keys [a-zA-Z0-9:_-]{1,128}; values 1-1024 characters, no control
// characters; at most 10 pairs.

export const MAX_DETAIL_PAIRS = 10;
export const MAX_KEY_LENGTH = 128;
export const MAX_VALUE_LENGTH = 1024;

/** Kept first when there are more than MAX_DETAIL_PAIRS pairs, in this order. */
const IMPORTANT_KEYS = ['reason', 'message', 'step', 'stepIndex', 'exitCode', 'signal', 'error', 'detail'];

const INVALID_KEY_CHARS = /[^a-zA-Z0-9:_-]/gu; // per code point: one _ for an emoji
const WHITESPACE_CONTROLS = /[\t\n\v\f\r\u0085]/g;
/** Any other control/format/unassigned/private-use/lone-surrogate code point. */
const OTHER_CONTROLS = /\p{C}/gu;

export function sanitizeKey(key: string): string {
  return key.replace(INVALID_KEY_CHARS, '_').slice(0, MAX_KEY_LENGTH);
}

/** Newlines and tabs become spaces, other control characters are dropped, and long values are cut. */
export function sanitizeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : stringify(value);
  const clean = text.replace(WHITESPACE_CONTROLS, ' ').replace(OTHER_CONTROLS, '').trim();
  return truncate(clean, MAX_VALUE_LENGTH);
}

/** Cuts to at most `max` UTF-16 units (so also at most `max` code points) without splitting a pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1; // room for the ellipsis
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // do not leave half a surrogate pair
  return `${text.slice(0, cut)}…`;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function rank(key: string): number {
  const i = IMPORTANT_KEYS.indexOf(key);
  return i === -1 ? IMPORTANT_KEYS.length : i;
}

/**
 * Returns details the service accepts: invalid key characters become `_`, empty values are dropped,
 * the first key wins when two sanitize to the same one, and at most 10 pairs are kept (reason, message,
 * step... first, then the rest in their original order). Idempotent.
 */
export function sanitizeStatusDetails(
  details: Record<string, unknown> | undefined | null,
): Record<string, string> {
  if (!details || typeof details !== 'object') return {};
  const pairs: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [rawKey, rawValue] of Object.entries(details)) {
    const key = sanitizeKey(rawKey);
    const value = sanitizeValue(rawValue);
    if (key.length === 0 || value.length === 0 || seen.has(key)) continue;
    seen.add(key);
    pairs.push([key, value]);
  }
  // Array.prototype.sort is stable: equal ranks keep their original order.
  const kept = pairs
    .map((pair, index) => ({ pair, index }))
    .sort((a, b) => rank(a.pair[0]) - rank(b.pair[0]) || a.index - b.index)
    .slice(0, MAX_DETAIL_PAIRS)
    .sort((a, b) => a.index - b.index);
  return Object.fromEntries(kept.map((k) => k.pair));
}
