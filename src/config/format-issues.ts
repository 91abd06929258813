// Turns zod issues into the messages field technicians see (README "Configuration", "Error messages"):
// one line per problem, `key.path "value": what is allowed (from SOURCE)`. Values are JSON-quoted and
// truncated; values of secret keys (passwords, tokens) are never printed.
import type { z } from 'zod';
import type { ConfigOrigins } from './merge.js';
import { knownKeysAt } from './schema-keys.js';
import { closestKey } from './suggest.js';
import { stripUserinfo } from '../redact-url.js';

type Issue = z.core.$ZodIssue;

const MAX_VALUE_CHARS = 60;
const SECRET_KEY = /(password|secret|token|credential|passphrase)/i;

const TRANSPORT_REQUIRED =
  'required (set transport.kind to mqtt, iot-core or greengrass-ipc in the config file, set GGJOBS_MQTT_URL, or run as a Greengrass component)';

/** What a missing key must hold, where the schema's own message for a missing value is generic. */
const REQUIRED_HINTS: Record<string, string> = {
  'transport.kind': 'one of mqtt, iot-core, greengrass-ipc',
  'transport.url': 'an mqtt:// or mqtts:// URL',
  'transport.endpoint': 'the AWS IoT Core data endpoint host name',
  'transport.certFile': 'the path of the device certificate file',
  'transport.keyFile': 'the path of the private key file',
};

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return node;
}

export function isSecretPath(path: string): boolean {
  // Step environment variables often carry credentials (proxy URLs with a password, tokens).
  if (path.startsWith('executor.environment.')) return true;
  const last = path.split('.').pop() ?? '';
  return SECRET_KEY.test(last);
}

/** `"x y"`, `42`, `null`, `["a","b"]`, truncated with an ellipsis; `(hidden)` for secret keys. */
export function formatValue(path: string, value: unknown): string {
  if (isSecretPath(path)) return '(value hidden)';
  // A broker URL may carry a password (mqtt://user:password@host): never shown.
  if (typeof value === 'string') value = stripUserinfo(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function isZodDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized|Expected)\b/.test(message);
}

function typeName(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
    case 'int':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping of settings (key: value)';
    default:
      return expected;
  }
}

function limitText(origin: string, bound: number | bigint, side: 'least' | 'most'): string {
  if (origin === 'string') {
    return side === 'least' && Number(bound) === 1
      ? 'must not be empty'
      : `must be at ${side} ${bound} characters`;
  }
  if (origin === 'array') return `must have at ${side} ${bound} entries`;
  return `must be at ${side} ${bound}`;
}

/** What the schema allows, as "must ..." text. */
function allowedText(issue: Issue): string {
  // The discriminated transport union's own message is about the union; say it about the key.
  if (issue.code === 'invalid_union' && issue.discriminator && 'options' in issue && issue.options) {
    return `must be one of ${issue.options.map(String).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.expected === 'object') {
    return issue.path.join('.') === 'transport'
      ? 'must be a mapping of settings with kind: mqtt, iot-core or greengrass-ipc'
      : `must be ${typeName('object')}`;
  }
  if (!isZodDefaultMessage(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeName(issue.expected)}`;
    case 'too_small':
      return limitText(issue.origin, issue.minimum, 'least');
    case 'too_big':
      return limitText(issue.origin, issue.maximum, 'most');
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_union':
      return 'is not valid here';
    case 'invalid_format':
      return 'has the wrong format';
    default:
      return issue.message;
  }
}

/** "must be X" -> "X" (for the `required (X)` form). */
function requiredText(path: string, allowed: string): string {
  const hint = REQUIRED_HINTS[path];
  if (hint) return `required (${hint})`;
  const what = allowed.replace(/^must (be )?/, '');
  return `required (${what})`;
}

function originSuffix(path: readonly PropertyKey[], origins: ConfigOrigins | undefined): string {
  if (!origins) return '';
  for (let n = path.length; n > 0; n--) {
    const origin = origins.get(formatPath(path.slice(0, n)));
    if (origin) return ` (from ${origin})`;
  }
  return '';
}

/** One line per problem, in the order zod found them, without duplicates. Pure. */
export function formatConfigIssues(
  issues: readonly Issue[],
  raw: unknown,
  schema: z.ZodType,
  origins?: ConfigOrigins,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path, raw) ?? [];
      for (const key of issue.keys) {
        const keyPath = [...issue.path, key];
        const guess = closestKey(key, known);
        const help = guess
          ? `did you mean ${guess}?`
          : known.length > 0
            ? `allowed: ${known.join(', ')}`
            : 'not a setting';
        lines.push(`${formatPath(keyPath)}: unknown key (${help})${originSuffix(keyPath, origins)}`);
      }
      continue;
    }
    const path = formatPath(issue.path);
    const label = path === '' ? 'configuration' : path;
    const value = valueAt(raw, issue.path);
    const allowed = allowedText(issue);
    if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      lines.push(`${label}: ${path === 'transport' ? TRANSPORT_REQUIRED : requiredText(path, allowed)}`);
      continue;
    }
    lines.push(`${label} ${formatValue(path, value)}: ${allowed}${originSuffix(issue.path, origins)}`);
  }
  return [...new Set(lines)];
}
