// The two log forms: JSON lines for collectors (and the Greengrass component log), one readable line
// per entry on a terminal; the format chosen by flag, env, Greengrass and the terminal, in that order.
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, errorAlreadyShown, loadPrettyLogs, logFormat, setLogFormat } from '../src/log.js';

// As the CLI does before making a logger when the format is pretty.
beforeAll(loadPrettyLogs);

function sink(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

afterEach(() => setLogFormat(undefined));

describe('log format', () => {
  const greengrass = { SVCUID: 'x', AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/s' };

  it('is pretty on a terminal and JSON otherwise', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
  });

  it('stays JSON under Greengrass, even on a terminal', () => {
    expect(logFormat(greengrass, true)).toBe('json');
  });

  it('follows GGJOBS_LOG_FORMAT, and the flag over everything', () => {
    expect(logFormat({ GGJOBS_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ GGJOBS_LOG_FORMAT: 'pretty', ...greengrass }, false)).toBe('pretty');
    setLogFormat('json');
    expect(logFormat({ GGJOBS_LOG_FORMAT: 'pretty' }, true)).toBe('json');
  });
});

describe('createLogger', () => {
  it('writes JSON lines with credentials redacted', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, pretty: false });
    log.info({ transport: { password: 'hunter2' }, jobId: 'j1' }, 'connected');
    const entry = JSON.parse(out.lines()[0]!);
    expect(entry).toMatchObject({
      level: 30,
      msg: 'connected',
      jobId: 'j1',
      transport: { password: '[redacted]' },
    });
  });

  it('writes one readable line per entry when pretty, with the error after the message', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, pretty: true });
    log.info({ jobId: 'j1' }, 'listening');
    log.error({ code: 'GGJOBS_ERR_X', err: 'the broker refused us' }, 'ggjobs failed; stopping');
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: listening \{"jobId":"j1"\}$/);
    expect(lines[1]).toMatch(
      /^\[\d\d:\d\d:\d\d\] ERROR: ggjobs failed; stopping: the broker refused us \{"code":"GGJOBS_ERR_X"\}$/,
    );
    expect(lines.join('\n')).not.toContain('"level"');
    // The CLI does not print this error again.
    expect(errorAlreadyShown('the broker refused us')).toBe(true);
    expect(errorAlreadyShown('something else')).toBe(false);
  });
});
