// Reports the component's lifecycle state to the nucleus (UpdateState): RUNNING once the agent is
// listening, ERRORED when it gives up, so `greengrass-cli component list` and the console show it.
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { GreengrassIpcError } from '../errors.js';
import { clientOf, type IpcClientSource } from './ipc-connection.js';
import { toGgjobsError } from './rpc-errors.js';

export type ComponentState = 'RUNNING' | 'ERRORED';

export async function reportComponentState(source: IpcClientSource, state: ComponentState): Promise<void> {
  if (state !== 'RUNNING' && state !== 'ERRORED') {
    throw new GreengrassIpcError(
      `UpdateState: state must be RUNNING or ERRORED, got ${JSON.stringify(state)}`,
    );
  }
  try {
    await clientOf(source).updateState({ state: greengrasscoreipc.model.ReportedLifecycleState[state] });
  } catch (err) {
    throw toGgjobsError(err, `UpdateState ${state}`);
  }
}
