// Preloaded with `node --import` (NODE_OPTIONS) into a child process: when it exits, writes every module
// it loaded (ES module URLs seen by a loader hook, plus CommonJS files from require.cache), one per
// line, to the file named by GGJOBS_LOADED_MODULES_FILE. Tests use it to check what a command loads.
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

const out = process.env.GGJOBS_LOADED_MODULES_FILE;
if (out) {
  const { port1, port2 } = new MessageChannel();
  const loaded = new Set();
  port1.on('message', (url) => loaded.add(url));
  // After on('message'), which refs the port: it must not keep the process alive.
  port1.unref();
  register('./loaded-modules-hooks.mjs', {
    parentURL: import.meta.url,
    data: { port: port2 },
    transferList: [port2],
  });
  process.on('exit', () => {
    // Messages still queued (a short-lived command) are taken synchronously.
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) loaded.add(m.message);
    for (const file of Object.keys(createRequire(import.meta.url).cache))
      loaded.add(pathToFileURL(file).href);
    writeFileSync(out, [...loaded].join('\n'));
  });
}
