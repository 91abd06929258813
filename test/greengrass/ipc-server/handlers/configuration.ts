// GetConfiguration and SubscribeToConfigurationUpdate for the server's one component. Other
// component names answer ResourceNotFoundError: the test server knows only its own configuration.
import { lookupConfiguration } from '../configuration-store.js';
import {
  keyPathField,
  type OperationHandler,
  type ServerState,
  type StreamContext,
} from '../operation-context.js';

function resolveComponent(ctx: StreamContext, state: ServerState): string | undefined {
  const requested = ctx.request.componentName;
  if (requested === undefined || requested === null) return state.componentName;
  if (requested !== state.componentName) {
    ctx.fail('ResourceNotFoundError', `component ${String(requested)} not found`);
    return undefined;
  }
  return requested;
}

export const getConfiguration: OperationHandler = (ctx, state) => {
  const keyPath = keyPathField(ctx.request, 'keyPath');
  if (!keyPath) return ctx.fail('ServiceError', 'keyPath must be an array of strings');
  const componentName = resolveComponent(ctx, state);
  if (!componentName) return;
  const result = lookupConfiguration(state.configuration, keyPath);
  if (!result.found) {
    return ctx.fail('ResourceNotFoundError', `key not found: ${JSON.stringify(keyPath)}`);
  }
  ctx.respond({ componentName, value: result.value }, { terminate: true });
};

export const subscribeToConfigurationUpdate: OperationHandler = (ctx, state) => {
  const keyPath = keyPathField(ctx.request, 'keyPath');
  if (!keyPath) return ctx.fail('ServiceError', 'keyPath must be an array of strings');
  const componentName = resolveComponent(ctx, state);
  if (!componentName) return;
  const watcher = {
    componentName,
    keyPath,
    notify(changedKeyPath: readonly string[]) {
      ctx.sendEvent('ConfigurationUpdateEvents', {
        configurationUpdateEvent: { componentName, keyPath: [...changedKeyPath] },
      });
    },
  };
  state.configurationWatchers.add(watcher);
  ctx.onClose(() => {
    state.configurationWatchers.delete(watcher);
  });
  ctx.respond({}, { terminate: false });
};
