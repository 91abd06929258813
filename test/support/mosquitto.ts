// A real, independent MQTT 5 broker for transport tests: the Debian mosquitto binary on a free
// loopback port, with a generated config, plain or TLS (optionally requiring client certificates, as
// AWS IoT Core does). It can be stopped (even killed) and started again on the SAME port, so tests can
// watch a client reconnect. Persistence is off: a restarted broker has forgotten every session, so a
// client only gets its messages back if it re-subscribes by itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface MosquittoTlsOptions {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuse clients without a certificate issued by caFile (default true, like AWS IoT Core). */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  tls?: MosquittoTlsOptions;
  /** Appended to the generated config (e.g. a bridge: `connection ...`, `address ...`, `topic ...`). */
  extraConfig?: string;
  /** How long to wait for the broker to listen (default 10 s). */
  startTimeoutMs?: number;
}

export interface Mosquitto {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** mqtt://127.0.0.1:PORT or mqtts://127.0.0.1:PORT */
  readonly url: string;
  readonly running: boolean;
  /** Starts the broker again on the same port (after stop()). */
  start(): Promise<void>;
  /** SIGTERM (a clean shutdown) or SIGKILL (a crash); resolves once the process is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops the broker and removes its temporary directory. Idempotent. */
  close(): Promise<void>;
  /** What the broker logged so far (last 64 KiB), for failure messages. */
  log(): string;
}

const LOG_LIMIT = 64 * 1024;

/** The mosquitto binary: on PATH, or where the Debian package puts it (/usr/sbin is not on every PATH). */
export function mosquittoBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, 'mosquitto');
    if (existsSync(candidate)) return candidate;
  }
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function mosquittoConfig(
  port: number,
  tls: MosquittoTlsOptions | undefined,
  extraConfig = '',
): string {
  const lines = [
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    // Started as root, mosquitto drops to the "mosquitto" user, which cannot read our 0700 temp files.
    `user ${userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    `listener ${port} 127.0.0.1`,
  ];
  if (tls) {
    lines.push(
      `cafile ${tls.caFile}`,
      `certfile ${tls.certFile}`,
      `keyfile ${tls.keyFile}`,
      `require_certificate ${tls.requireCertificate === false ? 'false' : 'true'}`,
    );
  }
  if (extraConfig) lines.push(extraConfig.trimEnd());
  return lines.join('\n') + '\n';
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const binary = mosquittoBinary();
  const dir = mkdtempSync(join(tmpdir(), 'ggjobs-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let logText = '';
  let child: ChildProcess | undefined;
  let port = 0;
  let closed = false;

  const appendLog = (chunk: Buffer) => {
    logText = (logText + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      writeFileSync(configFile, mosquittoConfig(port, options.tls, options.extraConfig));
      const proc = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.stderr?.off('data', onData);
        if (err) reject(err);
        else resolve();
      };
      // mosquitto logs "mosquitto version X running" once its listeners are open (this launch's
      // output only: the log of an earlier run says so too).
      let launchOutput = '';
      const onData = (chunk: Buffer) => {
        launchOutput += chunk.toString('utf8');
        if (/mosquitto version \S+ running/.test(launchOutput)) finish();
      };
      proc.stdout?.on('data', appendLog);
      proc.stderr?.on('data', appendLog);
      proc.stderr?.on('data', onData);
      proc.once('error', (err) => finish(err));
      proc.once('exit', (code, signal) => {
        if (child === proc) child = undefined;
        finish(new Error(`mosquitto exited before listening (code ${code}, signal ${signal}):\n${logText}`));
      });
      const timer = setTimeout(
        () => finish(new Error(`mosquitto did not start within ${startTimeoutMs} ms:\n${logText}`)),
        startTimeoutMs,
      );
    });

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      child = undefined;
      return;
    }
    await new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      proc.once('exit', () => {
        clearTimeout(killTimer);
        resolve();
      });
      proc.kill(signal);
    });
    child = undefined;
  };

  // The port is free when we pick it but could be taken before mosquitto binds it: pick again then.
  for (let attempt = 1; ; attempt++) {
    port = await freeLoopbackPort();
    try {
      await launch();
      break;
    } catch (err) {
      await stop('SIGKILL');
      if (attempt >= 3 || !/Address already in use/i.test(logText)) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const url = `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`;
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    url,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (closed) throw new Error('this mosquitto was closed');
      if (child) return;
      await launch();
    },
    stop,
    async close() {
      if (closed) return;
      closed = true;
      await stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => logText,
  };
}
