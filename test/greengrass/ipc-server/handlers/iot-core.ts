// SubscribeToIoTCore and PublishToIoTCore: checked against accessControl, then bridged to the broker.
import type { BridgeQos } from '../mqtt-bridge.js';
import { type OperationHandler, stringField } from '../operation-context.js';
import { allowedByResources } from '../topic-filter.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The model's QOS enum is the strings "0" and "1"; the nucleus defaults to "1" when omitted. */
function parseQos(value: unknown): BridgeQos | undefined {
  if (value === undefined || value === null) return 1;
  if (value === '0') return 0;
  if (value === '1') return 1;
  return undefined;
}

export const subscribeToIoTCore: OperationHandler = async (ctx, state) => {
  const topicName = stringField(ctx.request, 'topicName');
  const qos = parseQos(ctx.request.qos);
  if (!topicName) return ctx.fail('ServiceError', 'topicName must be a non-empty string');
  if (qos === undefined) return ctx.fail('ServiceError', 'qos must be "0" or "1"');
  const allowed = state.accessControl?.subscribe;
  if (allowed && !allowedByResources(allowed, topicName)) {
    return ctx.fail(
      'UnauthorizedError',
      `Principal is not authorized to perform aws.greengrass#SubscribeToIoTCore on resource ${topicName}`,
    );
  }
  let subscription: Awaited<ReturnType<typeof state.bridge.subscribe>>;
  try {
    subscription = await state.bridge.subscribe(topicName, qos, (topic, payload, retain) => {
      ctx.sendEvent('IoTCoreMessage', {
        message: { topicName: topic, payload: payload.toString('base64'), retain },
      });
    });
  } catch (err) {
    return ctx.fail('ServiceError', `subscribe to ${topicName} failed: ${(err as Error).message}`);
  }
  // The client may have gone away while the broker was subscribing.
  if (ctx.closed) return void subscription.close();
  ctx.onClose(() => subscription.close());
  ctx.respond({}, { terminate: false });
};

export const publishToIoTCore: OperationHandler = async (ctx, state) => {
  const topicName = stringField(ctx.request, 'topicName');
  const qos = parseQos(ctx.request.qos);
  const payload = ctx.request.payload ?? '';
  if (!topicName) return ctx.fail('ServiceError', 'topicName must be a non-empty string');
  if (/[+#]/.test(topicName)) return ctx.fail('ServiceError', 'topicName must not contain wildcards');
  if (qos === undefined) return ctx.fail('ServiceError', 'qos must be "0" or "1"');
  if (typeof payload !== 'string' || !BASE64.test(payload)) {
    return ctx.fail('ServiceError', 'payload must be base64');
  }
  const allowed = state.accessControl?.publish;
  if (allowed && !allowedByResources(allowed, topicName)) {
    return ctx.fail(
      'UnauthorizedError',
      `Principal is not authorized to perform aws.greengrass#PublishToIoTCore on resource ${topicName}`,
    );
  }
  try {
    await state.bridge.publish(topicName, Buffer.from(payload, 'base64'), qos, ctx.request.retain === true);
  } catch (err) {
    return ctx.fail('ServiceError', `publish to ${topicName} failed: ${(err as Error).message}`);
  }
  ctx.respond({}, { terminate: true });
};
