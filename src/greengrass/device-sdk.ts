// The device SDK (aws-iot-device-sdk-v2), loaded on first use. Importing it loads the native aws-crt
// library (about 15 MiB of resident memory), which only agents that talk to the Greengrass nucleus
// need: the modules under src/greengrass/ and the greengrass-ipc transport import only its types at
// the top and call loadDeviceSdk() where they first need a value (a client, an enum, a class).
import type * as DeviceSdkModule from 'aws-iot-device-sdk-v2';
import { cjsExports } from '../cjs-interop.js';

export type DeviceSdk = typeof DeviceSdkModule;

let loading: Promise<DeviceSdk> | undefined;
let loaded: DeviceSdk | undefined;

/** The SDK module, imported the first time this is called. */
export function loadDeviceSdk(): Promise<DeviceSdk> {
  loading ??= import('aws-iot-device-sdk-v2').then(
    (mod) => {
      const sdk = cjsExports(mod);
      loaded = sdk;
      return sdk;
    },
    (err: unknown) => {
      loading = undefined; // let a later call try again
      throw err;
    },
  );
  return loading;
}

/**
 * The SDK if loadDeviceSdk() has completed, else undefined. For synchronous checks (`instanceof` an
 * SDK class): every SDK client and error ggjobs handles comes from a client it created after
 * loading the SDK, so while this is undefined no value can be an instance of an SDK class.
 */
export function loadedDeviceSdk(): DeviceSdk | undefined {
  return loaded;
}
