// Reading the local config file (`--config FILE`). YAML or JSON: `.json` files are JSON, `.yaml`/`.yml`
// files are YAML, anything else is JSON when it starts with `{`, else YAML. YAML is read with the
// failsafe schema, so every scalar stays a string exactly as written (`jobId: 0042` stays "0042",
// `thingName: no` stays "no"); the config schema turns "30" and "true" into numbers and booleans
// where a number or boolean is expected, as it does for Greengrass configuration.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigFileError } from '../errors.js';
import { findJsonSyntaxError } from './json-position.js';
import { isPlainObject } from './merge.js';

export type ConfigFileFormat = 'json' | 'yaml';

export function configFileFormat(fileName: string, text: string): ConfigFileFormat {
  const ext = extname(fileName).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/** First line of a parser message, without the position the parser appends (we print our own). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * Parses config file text. Throws ConfigFileError naming the file and the line/column of a syntax
 * error. An empty file is an empty configuration. Pure (no I/O).
 */
export function parseConfigText(fileName: string, text: string): Record<string, unknown> {
  const format = configFileFormat(fileName, text);
  let value: unknown;
  if (format === 'json') {
    const problem = findJsonSyntaxError(text);
    if (problem) {
      throw new ConfigFileError(
        `config file ${fileName}: invalid JSON at line ${problem.line}, column ${problem.column}: ${problem.message}`,
      );
    }
    value = JSON.parse(text);
  } else {
    const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: true, prettyErrors: true });
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new ConfigFileError(`config file ${fileName}: invalid YAML${where}: ${firstLine(error.message)}`);
    }
    value = doc.toJS({ maxAliasCount: 100 });
  }
  if (value === null || value === undefined || value === '') return {};
  if (!isPlainObject(value)) {
    throw new ConfigFileError(
      `config file ${fileName}: must contain a mapping of settings (like "jobId: my-job") at the top level, found ${Array.isArray(value) ? 'a list' : 'a single value'}`,
    );
  }
  return value;
}

/** Reads and parses the config file; ConfigFileError when it is missing, unreadable or unparseable. */
export async function readConfigFile(fileName: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(fileName, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be read (${code ?? (err as Error).message})`;
    throw new ConfigFileError(`config file ${fileName}: ${reason}`, { cause: err });
  }
  // A UTF-8 byte order mark (Windows editors) is not part of the settings.
  return parseConfigText(fileName, text.replace(/^\uFEFF/, ''));
}
