// The local Greengrass IPC test server (tests only). See server.ts for the API.
export type { ConnectionInfo, IpcServerOptions, IpcTestServer } from './server.js';
export { startIpcServer } from './server.js';
