// The embedded local AWS IoT stack: one in-memory store shared by a REST-JSON control plane that the
// real AWS SDK talks to (HTTP) and the Jobs MQTT data plane (an aedes broker). Everything listens on
// loopback by default; port 0 picks a free port. Used by the tests, `npm start` and `ggjobs local`.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalStackListenError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { LOCAL_ACCOUNT_ID } from './arn.js';
import { type LocalBroker, startBroker } from './broker.js';
import { createControlPlaneServer } from './control-plane/server.js';
import { attachJobsDataPlane, type JobsDataPlane } from './data-plane/jobs-data-plane.js';
import type { NotifyTopicsMode } from './data-plane/topics.js';
import { type RateLimit, RequestGate } from './request-gate.js';
import { LocalStore } from './store.js';
import { DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, DEFAULT_MQTTS_PORT, DEFAULT_REGION } from './defaults.js';
import { defaultTlsDirectory, ensureServerTls, type ServerTls } from './tls/cert-directory.js';

export type { NotifyTopicsMode } from './data-plane/topics.js';
export { NOTIFY_TOPICS_MODES } from './data-plane/topics.js';

export type { RateLimit } from './request-gate.js';
export { MQTT_ALPN_PROTOCOLS } from './broker.js';
export { defaultTlsDirectory, ensureClientCertificate, thingNameProblem } from './tls/cert-directory.js';

export interface LocalTlsOptions {
  /** Where ca.pem, ca.key, server.pem and server.key live (created when missing); default defaultTlsDirectory(). */
  directory?: string;
  /** Default 8883; 0 = any free port. */
  port?: number;
}

export interface LocalStackOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 1883; 0 = any free port (tests always use 0). */
  mqttPort?: number;
  /** Default 4580; 0 = any free port. */
  httpPort?: number;
  /** Default 'us-east-1'. */
  region?: string;
  /** Which notify topic forms are published for namespaced jobs; default 'both'. */
  notifyTopics?: NotifyTopicsMode;
  /** Per operation: AWS names ('DescribeJob', ...) and 'data:'-prefixed data-plane ones. */
  rateLimits?: Record<string, RateLimit>;
  /**
   * Milliseconds one minute of every job timer lasts (timeoutConfig.inProgressTimeoutInMinutes,
   * stepTimeoutInMinutes); default 60000 (real minutes). Tests and demos compress time with it.
   */
  minuteMs?: number;
  /** Also serve MQTT over TLS with client certificates signed by the directory's CA. */
  tls?: LocalTlsOptions;
  logger?: Logger;
}

export interface LocalStack {
  /** mqtt://HOST:PORT */
  mqttUrl: string;
  /** mqtts://HOST:PORT, with `tls` only. */
  mqttsUrl?: string;
  /** The CA certificate devices trust and that signs their certificates (PEM), with `tls` only. */
  caFile?: string;
  /** The TLS directory (CA, broker and device certificates), with `tls` only. */
  tlsDirectory?: string;
  /** http://HOST:PORT (new IoTClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })) */
  controlPlaneEndpoint: string;
  region: string;
  /** Fixed 12-digit local account id. */
  accountId: string;
  /** Milliseconds one job-timer minute lasts (LocalStackOptions.minuteMs). */
  minuteMs: number;
  /**
   * Requests received per operation: AWS names ('DescribeJob', 'AssociateTargetsWithJob', ...) and
   * data-plane ones prefixed 'data:' ('data:DescribeJobExecution', 'data:UpdateJobExecution',
   * 'data:GetPendingJobExecutions', 'data:StartNextPendingJobExecution'); no argument = total.
   */
  requestCount(operation?: string): number;
  setRateLimit(operation: string, limit: RateLimit | undefined): void;
  /** Test/chaos hook (no AWS API): queues the job once more for the thing; the new executionNumber. */
  queueExecutionAgain(jobId: string, thingName: string): number;
  /** Closes the MQTT listener and drops clients (state is kept). */
  stopBroker(): Promise<void>;
  /** Listens again on the SAME port. */
  startBroker(): Promise<void>;
  close(): Promise<void>;
}

export { DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, DEFAULT_MQTTS_PORT, DEFAULT_REGION } from './defaults.js';

/** An http(s) URL host part: IPv6 addresses go in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Turns a listen failure into an error that says which listener and address. */
function listenError(what: string, host: string, port: number, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new LocalStackListenError(`${what} port ${port} on ${host} is already in use`, { cause: err });
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new LocalStackListenError(`${what} cannot listen on ${host}:${port} (${code})`, { cause: err });
  }
  return err;
}

async function listenHttp(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(listenError('the control plane (HTTP)', host, port, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function closeHttp(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // The AWS SDK keeps connections alive; without this close() would wait for them to time out.
  server.closeAllConnections();
  await closed;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? DEFAULT_REGION;
  const logger = options.logger ?? silentLogger();
  const accountId = LOCAL_ACCOUNT_ID;

  const store = new LocalStore({
    region,
    accountId,
    ...(options.minuteMs === undefined ? {} : { minuteMs: options.minuteMs }),
  });
  const gate = new RequestGate(options.rateLimits);
  const httpServer = createControlPlaneServer({ store, gate, logger });
  let broker: LocalBroker | undefined;
  let dataPlane: JobsDataPlane | undefined;
  // Certificates first: a broken TLS directory fails before anything listens.
  const serverTls: ServerTls | undefined = options.tls
    ? await ensureServerTls(options.tls.directory ?? defaultTlsDirectory())
    : undefined;
  try {
    const httpPort = await listenHttp(httpServer, options.httpPort ?? DEFAULT_HTTP_PORT, host);
    const mqttPort = options.mqttPort ?? DEFAULT_MQTT_PORT;
    const mqttsPort = options.tls?.port ?? DEFAULT_MQTTS_PORT;
    broker = await startBroker({
      host,
      port: mqttPort,
      logger,
      ...(serverTls
        ? { tls: { port: mqttsPort, cert: serverTls.cert, key: serverTls.key, ca: serverTls.ca } }
        : {}),
    }).catch((err: unknown) => {
      // Which listener failed: the plain one listens first, and reports its port in the error.
      const onTls =
        serverTls && (err as { port?: number } | undefined)?.port === mqttsPort && mqttsPort !== 0;
      throw onTls
        ? listenError('the MQTT over TLS broker', host, mqttsPort, err)
        : listenError('the MQTT broker', host, mqttPort, err);
    });
    dataPlane = attachJobsDataPlane({
      broker,
      store,
      gate,
      notifyTopics: options.notifyTopics ?? 'both',
      logger,
    });
    const readyBroker = broker;
    const readyDataPlane = dataPlane;
    let closing: Promise<void> | undefined;
    const stack: LocalStack = {
      mqttUrl: `mqtt://${urlHost(host)}:${readyBroker.port}`,
      ...(serverTls
        ? {
            mqttsUrl: `mqtts://${urlHost(host)}:${readyBroker.tlsPort}`,
            caFile: serverTls.caFile,
            tlsDirectory: serverTls.directory,
          }
        : {}),
      controlPlaneEndpoint: `http://${urlHost(host)}:${httpPort}`,
      region,
      accountId,
      minuteMs: store.minuteMs,
      requestCount: (operation) => gate.count(operation),
      setRateLimit: (operation, limit) => gate.setLimit(operation, limit),
      queueExecutionAgain: (jobId, thingName) => store.queueExecutionAgain(jobId, thingName),
      stopBroker: () => readyBroker.stop(),
      startBroker: () => readyBroker.start(),
      close() {
        closing ??= (async () => {
          readyDataPlane.close();
          store.close();
          await Promise.all([readyBroker.close(), closeHttp(httpServer)]);
          logger.debug('local stack closed');
        })();
        return closing;
      },
    };
    logger.info(
      {
        mqttUrl: stack.mqttUrl,
        ...(serverTls ? { mqttsUrl: stack.mqttsUrl, tlsDirectory: serverTls.directory } : {}),
        controlPlaneEndpoint: stack.controlPlaneEndpoint,
        region,
      },
      'local AWS IoT stack listening',
    );
    return stack;
  } catch (err) {
    store.close();
    dataPlane?.close();
    await broker?.close();
    await closeHttp(httpServer);
    throw err;
  }
}
