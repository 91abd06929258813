// Turns the device SDK's RpcError into ggjobs errors: modeled nucleus errors (UnauthorizedError,
// ResourceNotFoundError, ServiceError) become GreengrassIpcError naming the error and the action;
// a connection that is gone becomes TransportOfflineError, so callers can tell "refused" from "retry later".
import type { eventstream_rpc } from 'aws-iot-device-sdk-v2';
import { type GgjobsError, GreengrassIpcError, isGgjobsError, TransportOfflineError } from '../errors.js';
import { loadedDeviceSdk } from './device-sdk.js';

/**
 * `err` as the SDK's RpcError, with the SDK's RpcErrorType values; undefined when it is not one
 * (always while the SDK is not loaded: nothing can have thrown an RpcError then).
 */
function asRpcError(
  err: unknown,
): { error: eventstream_rpc.RpcError; types: typeof eventstream_rpc.RpcErrorType } | undefined {
  const rpc = loadedDeviceSdk()?.eventstream_rpc;
  return rpc && err instanceof rpc.RpcError ? { error: err, types: rpc.RpcErrorType } : undefined;
}

/** The modeled error name the nucleus sent (e.g. 'UnauthorizedError'), if `err` is one. */
export function serviceErrorName(err: unknown): string | undefined {
  const rpc = asRpcError(err);
  if (!rpc || rpc.error.type !== rpc.types.ServiceError) return undefined;
  const body = rpc.error.serviceError as { _errorCode?: unknown } | undefined;
  return typeof body?._errorCode === 'string' ? body._errorCode : 'ServiceError';
}

function serviceErrorMessage(err: eventstream_rpc.RpcError): string {
  const body = err.serviceError as { message?: unknown; _message?: unknown } | undefined;
  const message = body?.message ?? body?._message;
  return typeof message === 'string' ? message : err.description;
}

/** Whether the error means the IPC connection is not usable right now (retry after reconnecting). */
export function isConnectionLoss(err: unknown): boolean {
  const rpc = asRpcError(err);
  if (!rpc) return false;
  const { error, types: T } = rpc;
  // A response the client could not map to the model is a protocol mismatch, not a lost connection.
  if (error.type === T.InternalError && error.description.startsWith('Unexpected response shape'))
    return false;
  return (
    error.type === T.NetworkError ||
    error.type === T.ClientStateError ||
    error.type === T.InterruptionError ||
    error.type === T.InternalError
  );
}

/** `action` says what was attempted, e.g. "PublishToIoTCore on $aws/things/T/jobs/J/get". */
export function toGgjobsError(err: unknown, action: string): GgjobsError {
  if (isGgjobsError(err)) return err;
  const name = serviceErrorName(err);
  const rpc = asRpcError(err);
  if (name && rpc) {
    return new GreengrassIpcError(
      `${action} refused by the nucleus: ${name}: ${serviceErrorMessage(rpc.error)}`,
      { cause: err },
    );
  }
  if (isConnectionLoss(err)) {
    return new TransportOfflineError(`${action} failed: IPC connection lost (${(err as Error).message})`, {
      cause: err,
    });
  }
  return new GreengrassIpcError(`${action} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
