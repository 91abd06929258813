// The TLS side of `ggjobs local`: the `--tls` banner lines that tell a user how to point real device
// software at the stack, and `ggjobs local certs`, which writes a device certificate signed by the
// stack's CA.
import { type Command, InvalidArgumentError } from 'commander';
// Light imports only: the certificate code (a crypto library) loads when `local certs` runs.
import { defaultTlsDirectory, thingNameProblem } from '../../local/defaults.js';
import type { LocalStack } from '../../local/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

export function parseThingName(value: string): string {
  const problem = thingNameProblem(value);
  if (problem) throw new InvalidArgumentError(`${problem}.`);
  return value;
}

/** Single-quotes a path for a POSIX shell when it needs it. */
function shellPath(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Banner lines for a stack started with --tls: where it listens and how each kind of client connects. */
export function tlsBannerLines(stack: LocalStack): string[] {
  if (!stack.mqttsUrl || !stack.caFile || !stack.tlsDirectory) return [];
  const { hostname, port } = new URL(stack.mqttsUrl);
  const bound = hostname.replace(/^\[|\]$/g, '');
  // A wildcard address is not a name to connect to, nor one the broker certificate holds.
  const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
  const dir = shellPath(stack.tlsDirectory);
  const thing = 'THING';
  const cert = `${dir}/${thing}.pem`;
  const key = `${dir}/${thing}.key`;
  const ca = shellPath(stack.caFile);
  return [
    `  MQTT over TLS (client certificate required; ALPN x-amzn-mqtt-ca accepted): ${stack.mqttsUrl}`,
    `  CA certificate: ${stack.caFile}`,
    '',
    'Device certificate (once per thing; the files are reused while the CA stays):',
    `  ggjobs local certs --tls-dir ${dir} --thing ${thing}     -> ${cert}, ${key}`,
    'Then point device software at it (endpoint 127.0.0.1 or localhost, the names the broker certificate holds):',
    // The Device Client has no port setting: its SDK (C++ v2) connects to 443 with ALPN x-amzn-mqtt-ca.
    `  AWS IoT Device Client: aws-iot-device-client --endpoint ${host} --cert ${cert} --key ${key} --root-ca ${ca} --thing-name ${thing}`,
    `    (it always connects to port 443 with ALPN x-amzn-mqtt-ca: ${
      port === '443'
        ? 'this stack listens there'
        : 'start the stack with --mqtts-port 443, as root or with CAP_NET_BIND_SERVICE'
    })`,
    `  Device SDKs (v2): mTLS builder from ${cert} and ${key}, endpoint ${host}, port ${port}, CA ${ca}`,
    `  ggjobs (iot-core transport): transport: {kind: iot-core, endpoint: ${host}, port: ${port}, certFile: ${cert}, keyFile: ${key}, caFile: ${ca}}`,
    `                               enroll: {endpoint: ${stack.controlPlaneEndpoint}}`,
  ];
}

interface CertsOptions {
  tlsDir: string;
  thing: string;
  json?: boolean;
}

export async function runLocalCerts(options: CertsOptions, io: CliIo): Promise<void> {
  const { ensureClientCertificate } = await import('../../local/tls/cert-directory.js');
  const issued = await ensureClientCertificate(options.tlsDir, options.thing);
  if (options.json) {
    io.stdout(`${JSON.stringify({ thingName: options.thing, ...issued })}\n`);
    return;
  }
  io.stdout(
    [
      `${issued.created ? 'Wrote' : 'Kept'} the certificate of thing ${options.thing}, signed by ${issued.caFile}:`,
      `  certificate: ${issued.certFile}`,
      `  private key: ${issued.keyFile}`,
      `  CA:          ${issued.caFile}`,
      '',
    ].join('\n'),
  );
}

export function registerLocalCerts(local: Command, io: CliIo, result: CommandResult): void {
  local
    .command('certs')
    .description(
      "write a device certificate NAME.pem and key NAME.key signed by the local stack's CA (created with the broker's when missing)",
    )
    // `local` declares --tls-dir and --json too, and commander hands them to it wherever they appear;
    // they are declared here for the help text and read from either command.
    .option('--tls-dir <dir>', `the local stack's TLS directory (default: ${defaultTlsDirectory()})`)
    .requiredOption(
      '--thing <name>',
      'thing name the certificate is for (also its CN and file name)',
      parseThingName,
    )
    .option('--json', 'print one JSON line {thingName, certFile, keyFile, caFile, created}')
    .action(async (options: Partial<CertsOptions>, command: Command) => {
      const parent = command.parent?.opts<{ tlsDir?: string; json?: boolean }>() ?? {};
      const tlsDir = options.tlsDir ?? parent.tlsDir ?? defaultTlsDirectory();
      const json = options.json ?? parent.json;
      await runLocalCerts({ tlsDir, thing: options.thing!, ...(json ? { json } : {}) }, io);
      result.exitCode = EXIT.ok;
    });
}
