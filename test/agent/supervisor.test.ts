// The supervisor in process, with the mqtt transport against the local stack and a local config file:
// what happens to edits that change nothing or only the log level, broken edits, a start stuck on a
// broker that does not answer (superseded by a fixed file, or ended by stop()).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor, type SupervisorEvent } from '../../src/supervisor/index.js';
import {
  captureLogger,
  deviceConfig,
  gatedRunJob,
  handlerDirectory,
  type JobsStack,
  saveAtomically,
  startJobsStack,
  waitFor,
} from './helpers.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('supervisor with a local config file', () => {
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let file: string;
  let supervisor: Supervisor | undefined;
  let events: SupervisorEvent[];
  let capture: ReturnType<typeof captureLogger>;

  beforeEach(async () => {
    js = await startJobsStack();
    work = await mkdtemp(join(tmpdir(), 'ggjobs-supervisor-'));
    handlers = await handlerDirectory(work);
    file = join(work, 'ggjobs.yaml');
    events = [];
    capture = captureLogger();
  });

  afterEach(async () => {
    await supervisor?.stop({ graceMs: 1_000 });
    supervisor = undefined;
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  /** The device config without enrollment (these tests are about applying configurations). */
  const configWith = (patch: Record<string, unknown> = {}) =>
    deviceConfig(js, work, handlers, { enroll: { enabled: 'false' }, ...patch });

  function supervise(options: { ownLogger?: boolean } = {}): Supervisor {
    supervisor = createSupervisor({
      configFile: file,
      env: {},
      log: options.ownLogger ? undefined : capture.log,
      runJob: gatedRunJob().runJob,
      configFileDebounceMs: 20,
      onEvent: (event) => events.push(event),
    });
    return supervisor;
  }

  const started = () => events.filter((e) => e.type === 'started');

  it('leaves the agent alone when an edit does not change the effective configuration', async () => {
    await saveAtomically(file, configWith());
    const sup = supervise();
    await sup.start();
    const agent = sup.agent;
    // Same settings, written differently (a comment, numbers as numbers instead of strings).
    await saveAtomically(
      file,
      `# edited by a technician\n${JSON.stringify(configWith({ listen: { shutdownGraceSeconds: 5, requestTimeoutMs: 5000 } }))}`,
    );
    await waitFor(() => events.some((e) => e.type === 'config-unchanged'), 'the unchanged verdict');
    expect(sup.agent).toBe(agent);
    expect(started()).toHaveLength(1);
  });

  it('applies a logLevel-only edit to its own logger without restarting the agent', async () => {
    await saveAtomically(file, configWith({ logLevel: 'error' }));
    const sup = supervise({ ownLogger: true });
    await sup.start();
    expect(sup.log.level).toBe('error');
    const agent = sup.agent;
    await saveAtomically(file, configWith({ logLevel: 'fatal' }));
    await waitFor(() => events.some((e) => e.type === 'log-level'), 'the log level event');
    expect(sup.log.level).toBe('fatal');
    expect(sup.agent).toBe(agent);
    expect(sup.config?.logLevel).toBe('fatal');
  });

  it('refuses a broken edit with the parse error, keeps the config, and applies the fixed one', async () => {
    await saveAtomically(file, configWith());
    const sup = supervise();
    await sup.start();
    await saveAtomically(file, 'jobId: [job-b\n');
    const refusal = await waitFor(() => capture.find(/config file change refused/), 'the refusal');
    expect(refusal.msg).toMatch(/config file .*ggjobs\.yaml: invalid YAML at line \d+, column \d+/);
    expect(sup.config?.jobId).toBe('job-a');
    expect(events.find((e) => e.type === 'config-refused')).toMatchObject({ source: 'file' });

    await saveAtomically(file, configWith({ jobId: 'job-b' }));
    await waitFor(() => started().length === 2, 'the restart with job-b');
    expect(sup.config?.jobId).toBe('job-b');
    expect(started()[1]).toMatchObject({ changed: ['jobId'], enrolled: false });
  });

  it('abandons a start stuck on an unreachable broker when a fixed file arrives', async () => {
    const dead = `mqtt://127.0.0.1:${await closedPort()}`;
    await saveAtomically(file, configWith({ transport: { kind: 'mqtt', url: dead, reconnectMinMs: '50' } }));
    const sup = supervise();
    const starting = sup.start();
    await waitFor(() => capture.find(/mqtt: connection error/), 'a failed connection attempt');
    await saveAtomically(file, configWith());
    await starting;
    expect(sup.config?.transport).toMatchObject({ kind: 'mqtt', url: js.stack.mqttUrl });
    expect(started()).toHaveLength(1);
    expect(sup.agent?.transport.connected).toBe(true);
  });

  it('stop() ends a start stuck on an unreachable broker; start() and finished resolve', async () => {
    const dead = `mqtt://127.0.0.1:${await closedPort()}`;
    await saveAtomically(file, configWith({ transport: { kind: 'mqtt', url: dead, reconnectMinMs: '50' } }));
    const sup = supervise();
    const starting = sup.start();
    await waitFor(() => capture.find(/mqtt: connection error/), 'a failed connection attempt');
    await sup.stop();
    await expect(starting).resolves.toBeUndefined();
    await expect(sup.finished).resolves.toBeUndefined();
    expect(started()).toHaveLength(0);
    expect(sup.agent).toBeUndefined();
  });

  it('rejects start() with the config error when the first configuration is invalid', async () => {
    await saveAtomically(file, configWith({ namespaceId: 'bad namespace' }));
    const sup = supervise();
    await expect(sup.start()).rejects.toMatchObject({ code: 'GGJOBS_ERR_CONFIG_INVALID' });
    await expect(sup.finished).rejects.toMatchObject({ code: 'GGJOBS_ERR_CONFIG_INVALID' });
    expect(sup.underGreengrass).toBe(false);
  });
});
