// The device SDK loads the native aws-crt library (about 15 MiB of resident memory): an agent on the
// mqtt transport must not pay for it just by importing the transport and Greengrass modules. Each
// case imports the compiled modules (dist/, built by the test global setup) in a fresh Node process
// and lists the native libraries that process has loaded.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `body` (ES module code, top-level await allowed) in a child and returns the aws-crt libraries it loaded. */
function crtLibrariesAfter(body: string): Promise<string[]> {
  const script = `${body}
const loaded = process.report.getReport().sharedObjects.filter((file) => /aws-crt/.test(file));
process.stdout.write(JSON.stringify(loaded));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: root, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as string[]);
      },
    );
  });
}

describe('the device SDK is loaded only when used', () => {
  it('is not loaded by importing the transports, the Greengrass modules or the Greengrass configuration', async () => {
    const loaded = await crtLibrariesAfter(`
      await import('./dist/transport/index.js');
      await import('./dist/transport/greengrass-ipc.js');
      await import('./dist/greengrass/ipc-connection.js');
      await import('./dist/greengrass/component-state.js');
      await import('./dist/greengrass/rpc-errors.js');
      await import('./dist/config/greengrass.js');`);
    expect(loaded).toEqual([]);
  });

  it('is not loaded by creating and using an mqtt transport', async () => {
    const loaded = await crtLibrariesAfter(`
      const { createTransport } = await import('./dist/transport/index.js');
      const { silentLogger } = await import('./dist/log.js');
      const { transportSchema } = await import('./dist/config/schema.js');
      const config = transportSchema.parse({ kind: 'mqtt', url: 'mqtt://127.0.0.1:1' });
      const transport = createTransport(config, { thingName: 't', log: silentLogger() });
      await transport.subscribe('a/b', () => {});
      await transport.close();`);
    expect(loaded).toEqual([]);
  });

  it('is loaded once a Greengrass IPC connection attempt needs it (so the check above can see it)', async () => {
    const loaded = await crtLibrariesAfter(`
      const { createGreengrassIpcConnection } = await import('./dist/greengrass/ipc-connection.js');
      const { silentLogger } = await import('./dist/log.js');
      const connection = createGreengrassIpcConnection({
        log: silentLogger(),
        socketPath: '/nonexistent/ggjobs-nucleus.sock',
        svcuid: 'x',
        connectTimeoutMs: 2_000,
      });
      await connection.connect().catch(() => undefined);
      await connection.close();`);
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatch(/aws-crt-nodejs\.node$/);
  });
});
