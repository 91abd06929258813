import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFileFormat, parseConfigText, readConfigFile } from '../../src/config/file.js';
import { findJsonSyntaxError } from '../../src/config/json-position.js';
import { ConfigFileError } from '../../src/errors.js';

function fileError(fn: () => unknown): ConfigFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return err as ConfigFileError;
  }
  throw new Error('expected a ConfigFileError');
}

describe('parseConfigText', () => {
  it('reads YAML, keeping scalars as written', () => {
    const text =
      'jobId: "0042"\nthingName: no\nenroll:\n  retry:\n    maxAttempts: 3\nexecutor:\n  allowedCommands: [ls, df]\n';
    expect(parseConfigText('ggjobs.yaml', text)).toEqual({
      jobId: '0042',
      thingName: 'no',
      enroll: { retry: { maxAttempts: '3' } },
      executor: { allowedCommands: ['ls', 'df'] },
    });
    expect(parseConfigText('ggjobs.yaml', 'jobId: 0042\n')).toEqual({ jobId: '0042' });
  });

  it('reads JSON', () => {
    expect(parseConfigText('ggjobs.json', '{"jobId": "j", "enroll": {"retry": {"maxAttempts": 3}}}')).toEqual(
      {
        jobId: 'j',
        enroll: { retry: { maxAttempts: 3 } },
      },
    );
  });

  it('chooses the format by extension, else by content', () => {
    expect(configFileFormat('a.json', 'x: 1')).toBe('json');
    expect(configFileFormat('a.YML', '{}')).toBe('yaml');
    expect(configFileFormat('ggjobs.conf', '  {"a": 1}')).toBe('json');
    expect(configFileFormat('ggjobs.conf', 'a: 1')).toBe('yaml');
  });

  it('treats an empty file as an empty configuration', () => {
    expect(parseConfigText('empty.yaml', '')).toEqual({});
    expect(parseConfigText('comments.yaml', '# nothing yet\n')).toEqual({});
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const err = fileError(() => parseConfigText('/etc/ggjobs.yaml', 'jobId: j\nenroll: [a, b\nregion: x\n'));
    expect(err.message).toMatch(/^config file \/etc\/ggjobs\.yaml: invalid YAML at line \d+, column \d+: \S/);
    expect(err.message).not.toContain('\n');
  });

  it('rejects duplicate YAML keys with their position', () => {
    const err = fileError(() => parseConfigText('g.yaml', 'jobId: a\njobId: b\n'));
    expect(err.message).toMatch(
      /^config file g\.yaml: invalid YAML at line 2, column 1: Map keys must be unique/,
    );
  });

  it('names the file, line and column of a JSON syntax error', () => {
    const err = fileError(() => parseConfigText('/etc/ggjobs.json', '{\n  "jobId": "j",\n  "region": \n}\n'));
    expect(err.message).toBe(
      'config file /etc/ggjobs.json: invalid JSON at line 4, column 1: unexpected "}", expected a value',
    );
    const trailing = fileError(() => parseConfigText('c.json', '{"a": 1,}'));
    expect(trailing.message).toBe(
      'config file c.json: invalid JSON at line 1, column 9: unexpected "}", expected a key in double quotes',
    );
  });

  it('does not quote the file content of a JSON error (it may hold a password)', () => {
    const err = fileError(() => parseConfigText('c.json', '{"transport": {"password": hunter2}}'));
    expect(err.message).not.toContain('hunter2');
  });

  it('wants a mapping at the top level', () => {
    expect(fileError(() => parseConfigText('l.yaml', '- a\n- b\n')).message).toMatch(
      /^config file l\.yaml: must contain a mapping of settings .* found a list$/,
    );
    expect(fileError(() => parseConfigText('s.json', '"jobId"')).message).toMatch(/found a single value$/);
  });
});

describe('findJsonSyntaxError', () => {
  it('accepts valid JSON', () => {
    expect(
      findJsonSyntaxError('{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {}}'),
    ).toBeUndefined();
  });

  it('finds errors JSON.parse would also reject', () => {
    for (const text of ['', '{', '{"a" 1}', '[1 2]', '{"a": tru}', '{"a": "\n"}', '{} x', "{'a': 1}"]) {
      expect(() => JSON.parse(text)).toThrow();
      expect(findJsonSyntaxError(text)).toBeDefined();
    }
  });
});

describe('readConfigFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ggjobs-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a YAML file, ignoring a byte order mark', async () => {
    const file = join(dir, 'ggjobs.yaml');
    await writeFile(file, '\uFEFFjobId: j\n');
    await expect(readConfigFile(file)).resolves.toEqual({ jobId: 'j' });
  });

  it('says when the file is missing', async () => {
    const file = join(dir, 'nope.yaml');
    await expect(readConfigFile(file)).rejects.toThrow(
      new ConfigFileError(`config file ${file}: file not found`),
    );
  });

  it('says when the path is a directory', async () => {
    await expect(readConfigFile(dir)).rejects.toThrow(`config file ${dir}: is a directory, not a file`);
  });
});
