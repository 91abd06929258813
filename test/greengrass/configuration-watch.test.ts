// watchGreengrassConfiguration through the real device SDK client against the IPC test server:
// the initial GetConfiguration, update events turned into fresh reads, and recovery after the
// nucleus connection drops.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type GreengrassConfigurationWatch,
  watchGreengrassConfiguration,
} from '../../src/config/greengrass.js';
import { TransportConnectError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import {
  createGreengrassIpcTransport,
  type GreengrassIpcTransport,
} from '../../src/transport/greengrass-ipc.js';
import { type IpcFixture, startIpcFixture, waitFor } from './helpers.js';

const log = silentLogger();

const INITIAL = {
  jobId: 'fleet-maintenance',
  namespaceId: 'ggjobs',
  listen: { requestTimeoutMs: '10000', notifyTopics: { perJob: 'true' } },
};

describe('watchGreengrassConfiguration', () => {
  let fixture: IpcFixture;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    fixture = await startIpcFixture({ configuration: INITIAL });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await fixture.close();
  });

  async function connectedTransport(): Promise<GreengrassIpcTransport> {
    const transport = createGreengrassIpcTransport({
      log,
      socketPath: fixture.socketPath,
      svcuid: fixture.svcuid,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
    });
    cleanups.push(() => transport.close());
    await transport.connect();
    return transport;
  }

  async function watch(
    options: Partial<Parameters<typeof watchGreengrassConfiguration>[0]>,
    changes: unknown[],
  ): Promise<GreengrassConfigurationWatch> {
    const w = await watchGreengrassConfiguration({ log, onChange: (c) => changes.push(c), ...options });
    cleanups.push(() => w.close());
    return w;
  }

  it('reads the own component configuration as the initial value (strings kept as strings)', async () => {
    const transport = await connectedTransport();
    const w = await watch({ client: transport }, []);
    expect(w.initial).toEqual(INITIAL);
    // componentName omitted = the calling component; keyPath [] = everything.
    expect(fixture.server.requests('GetConfiguration')).toEqual([{ keyPath: [] }]);
    expect(fixture.server.requests('SubscribeToConfigurationUpdate')).toEqual([{ keyPath: [] }]);
  });

  it('delivers the whole new configuration after an update event, once per distinct value', async () => {
    const transport = await connectedTransport();
    const changes: unknown[] = [];
    await watch({ client: transport }, changes);

    const second = {
      ...INITIAL,
      jobId: 'fleet-2',
      listen: { requestTimeoutMs: '2000', notifyTopics: { perJob: 'false' } },
    };
    fixture.server.setConfiguration(second); // three keys change: three events, one new value
    await waitFor(() => changes.length >= 1, 'the first change');
    const third = { ...second, logLevel: 'debug' };
    fixture.server.setConfiguration(third);
    await waitFor(() => changes.length >= 2, 'the second change');
    expect(changes).toEqual([second, third]);
  });

  it('opens its own connection from socketPath/svcuid and closes it on close()', async () => {
    const changes: unknown[] = [];
    const w = await watch({ socketPath: fixture.socketPath, svcuid: fixture.svcuid }, changes);
    expect(w.initial).toEqual(INITIAL);
    expect(fixture.server.connections()).toHaveLength(1);
    fixture.server.setConfiguration({ ...INITIAL, jobId: 'other' });
    await waitFor(() => changes.length === 1, 'the change');

    await w.close();
    await waitFor(() => fixture.server.connections().length === 0, 'the connection gone');
  });

  it('close() ends the update stream but leaves a shared connection open', async () => {
    const transport = await connectedTransport();
    const changes: unknown[] = [];
    const w = await watch({ client: transport }, changes);
    expect(fixture.server.openStreams().map((s) => s.operation)).toEqual(['SubscribeToConfigurationUpdate']);
    await w.close();
    await waitFor(() => fixture.server.openStreams().length === 0, 'no open streams');
    expect(transport.connected).toBe(true);
    fixture.server.setConfiguration({ ...INITIAL, jobId: 'after-close' });
    await transport.publish('out/flush', 'x'); // a round trip after the change; still no delivery
    expect(changes).toEqual([]);
  });

  it('connects a shared transport that is not up yet; the transport still announces one first connect', async () => {
    const transport = createGreengrassIpcTransport({
      log,
      socketPath: fixture.socketPath,
      svcuid: fixture.svcuid,
    });
    cleanups.push(() => transport.close());
    const announced: boolean[] = [];
    transport.on('connected', (e) => announced.push(e.reconnect));
    await transport.subscribe('devices/early', () => {});
    const w = await watch({ client: transport }, []);
    expect(w.initial).toEqual(INITIAL);
    await transport.connect();
    expect(announced).toEqual([false]);
    expect(fixture.server.connections()).toHaveLength(1);
    expect(
      fixture.server
        .openStreams()
        .map((s) => s.operation)
        .sort(),
    ).toEqual(['SubscribeToConfigurationUpdate', 'SubscribeToIoTCore']);
  });

  it('works on a bare SDK client too', async () => {
    const transport = await connectedTransport();
    const changes: unknown[] = [];
    const w = await watch({ client: transport.connection.client() }, changes);
    expect(w.initial).toEqual(INITIAL);
    fixture.server.setConfiguration({ ...INITIAL, region: 'eu-west-1' });
    await waitFor(() => changes.length === 1, 'the change');
    expect(changes[0]).toEqual({ ...INITIAL, region: 'eu-west-1' });
  });

  it('after the nucleus connection drops, subscribes again and picks up a change it missed', async () => {
    const transport = await connectedTransport();
    const changes: unknown[] = [];
    await watch({ client: transport }, changes);
    let reconnected = false;
    transport.on('connected', (e) => {
      reconnected ||= e.reconnect;
    });

    fixture.server.dropConnections();
    // Made while the connection is going away: its event is lost; the re-read after reconnecting is not.
    const missed = { ...INITIAL, jobId: 'changed-while-away' };
    fixture.server.setConfiguration(missed);
    await waitFor(() => changes.length >= 1, 'the missed change');
    expect(changes).toEqual([missed]);
    await waitFor(() => reconnected, 'reconnected');
    await waitFor(
      () => fixture.server.openStreams().some((s) => s.operation === 'SubscribeToConfigurationUpdate'),
      'a new update stream',
    );

    const later = { ...missed, logLevel: 'warn' };
    fixture.server.setConfiguration(later);
    await waitFor(() => changes.length >= 2, 'the later change');
    expect(changes).toEqual([missed, later]);
  });

  it('subscribes again when the nucleus ends the update stream', async () => {
    const transport = await connectedTransport();
    const changes: unknown[] = [];
    await watch({ client: transport }, changes);
    expect(fixture.server.terminateStreams('SubscribeToConfigurationUpdate')).toBe(1);
    await waitFor(
      () => fixture.server.requests('SubscribeToConfigurationUpdate').length === 2,
      'a second subscription',
    );
    await waitFor(() => fixture.server.openStreams().length === 1, 'the stream open again');
    fixture.server.setConfiguration({ ...INITIAL, jobId: 'after-resubscribe' });
    await waitFor(() => changes.length === 1, 'the change');
    expect(changes).toEqual([{ ...INITIAL, jobId: 'after-resubscribe' }]);
  });

  it('keeps delivering after onChange throws', async () => {
    const transport = await connectedTransport();
    const seen: unknown[] = [];
    const w = await watchGreengrassConfiguration({
      client: transport,
      log,
      onChange: (c) => {
        seen.push(c);
        throw new Error('listener bug');
      },
    });
    cleanups.push(() => w.close());
    fixture.server.setConfiguration({ a: '1' });
    await waitFor(() => seen.length === 1, 'first');
    fixture.server.setConfiguration({ a: '2' });
    await waitFor(() => seen.length === 2, 'second');
    expect(seen).toEqual([{ a: '1' }, { a: '2' }]);
  });

  it('fails with TransportConnectError when the SVCUID is refused', async () => {
    const err = await watchGreengrassConfiguration({
      log,
      socketPath: fixture.socketPath,
      svcuid: 'wrong',
      onChange: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportConnectError);
    expect(fixture.server.requests('GetConfiguration')).toEqual([]);
  });
});
