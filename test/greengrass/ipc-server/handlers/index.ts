// Operation name -> handler. Anything else is answered with a ServiceError by the connection.
import type { OperationHandler } from '../operation-context.js';
import { deferComponentUpdate, subscribeToComponentUpdates } from './component-updates.js';
import { getConfiguration, subscribeToConfigurationUpdate } from './configuration.js';
import { publishToIoTCore, subscribeToIoTCore } from './iot-core.js';
import { updateState } from './update-state.js';

export const OPERATION_HANDLERS: ReadonlyMap<string, OperationHandler> = new Map([
  ['SubscribeToIoTCore', subscribeToIoTCore],
  ['PublishToIoTCore', publishToIoTCore],
  ['GetConfiguration', getConfiguration],
  ['SubscribeToConfigurationUpdate', subscribeToConfigurationUpdate],
  ['UpdateState', updateState],
  ['SubscribeToComponentUpdates', subscribeToComponentUpdates],
  ['DeferComponentUpdate', deferComponentUpdate],
]);
