// Live configuration around the agent: what `ggjobs start` runs (see supervisor.ts).
export { createSupervisor, startSupervisor } from './supervisor.js';
export type { ConfigSource, Supervisor, SupervisorEvent, SupervisorOptions } from './types.js';
