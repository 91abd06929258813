// The Greengrass component state the supervisor reports: RUNNING once the agent listens (again after
// each reconfiguration), ERRORED when it fails for good. Outside Greengrass there is nothing to report.
import { type ComponentState, reportComponentState } from '../greengrass/component-state.js';
import type { GreengrassIpcConnection } from '../greengrass/ipc-connection.js';
import type { Logger } from '../log.js';
import type { SupervisorEvent } from './types.js';

export async function reportStateToNucleus(
  connection: GreengrassIpcConnection | undefined,
  state: ComponentState,
  { log, emit }: { log: Logger; emit: (event: SupervisorEvent) => void },
): Promise<void> {
  if (!connection) return;
  try {
    await reportComponentState(connection, state);
    emit({ type: 'state-reported', state });
  } catch (err) {
    log.warn({ state, err: (err as Error).message }, 'greengrass: reporting the component state failed');
  }
}
