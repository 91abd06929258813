// SubscribeToComponentUpdates and DeferComponentUpdate, as the nucleus serves them during a
// deployment with the NOTIFY_COMPONENTS policy: subscribers get a preUpdateEvent, may answer
// DeferComponentUpdate (with recheckAfterMs), and get a postUpdateEvent once the update is applied.
// Neither operation needs accessControl. The deployment itself is driven by the test through
// IpcTestServer.runComponentUpdate (server.ts).
import { type OperationHandler, stringField } from '../operation-context.js';

export const subscribeToComponentUpdates: OperationHandler = (ctx, state) => {
  const watcher = {
    preUpdate(deploymentId: string) {
      ctx.sendEvent('ComponentUpdatePolicyEvents', {
        preUpdateEvent: { deploymentId, isGgcRestarting: false },
      });
    },
    postUpdate(deploymentId: string) {
      ctx.sendEvent('ComponentUpdatePolicyEvents', { postUpdateEvent: { deploymentId } });
    },
  };
  state.componentUpdateWatchers.add(watcher);
  ctx.onClose(() => {
    state.componentUpdateWatchers.delete(watcher);
  });
  ctx.respond({}, { terminate: false });
};

export const deferComponentUpdate: OperationHandler = (ctx, state) => {
  const deploymentId = stringField(ctx.request, 'deploymentId');
  if (!deploymentId) return ctx.fail('ServiceError', 'deploymentId is required');
  const recheck = ctx.request.recheckAfterMs;
  const recheckAfterMs = typeof recheck === 'number' && recheck >= 0 ? recheck : 0;
  const message = typeof ctx.request.message === 'string' ? ctx.request.message : undefined;
  state.deferrals.push({ deploymentId, recheckAfterMs, message });
  ctx.respond({}, { terminate: true });
};
