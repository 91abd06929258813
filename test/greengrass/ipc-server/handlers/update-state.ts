// UpdateState: records the reported lifecycle state so tests can assert it.
import { type OperationHandler, stringField } from '../operation-context.js';

const REPORTABLE = new Set(['RUNNING', 'ERRORED']);

export const updateState: OperationHandler = (ctx, state) => {
  const reported = stringField(ctx.request, 'state');
  if (!reported || !REPORTABLE.has(reported)) {
    return ctx.fail('ServiceError', 'state must be RUNNING or ERRORED');
  }
  state.states.push(reported);
  ctx.respond({}, { terminate: true });
};
