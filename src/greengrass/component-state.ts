// Reports the component's lifecycle state to the nucleus (UpdateState): RUNNING once the agent is
// listening, ERRORED when it gives up, so `greengrass-cli component list` and the console show it.
import { GreengrassIpcError } from '../errors.js';
import { loadDeviceSdk } from './device-sdk.js';
import { clientOf, type IpcClientSource } from './ipc-connection.js';
import { toGgjobsError } from './rpc-errors.js';

export type ComponentState = 'RUNNING' | 'ERRORED';

export async function reportComponentState(source: IpcClientSource, state: ComponentState): Promise<void> {
  if (state !== 'RUNNING' && state !== 'ERRORED') {
    throw new GreengrassIpcError(
      `UpdateState: state must be RUNNING or ERRORED, got ${JSON.stringify(state)}`,
    );
  }
  const { greengrasscoreipc } = await loadDeviceSdk(); // before clientOf: it tells SDK clients by class
  try {
    await clientOf(source).updateState({ state: greengrasscoreipc.model.ReportedLifecycleState[state] });
  } catch (err) {
    throw toGgjobsError(err, `UpdateState ${state}`);
  }
}
