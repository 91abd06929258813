// Turns the device SDK's RpcError into ggjobs errors: modeled nucleus errors (UnauthorizedError,
// ResourceNotFoundError, ServiceError) become GreengrassIpcError naming the error and the action;
// a connection that is gone becomes TransportOfflineError, so callers can tell "refused" from "retry later".
import { eventstream_rpc } from 'aws-iot-device-sdk-v2';
import { type GgjobsError, GreengrassIpcError, isGgjobsError, TransportOfflineError } from '../errors.js';

/** The modeled error name the nucleus sent (e.g. 'UnauthorizedError'), if `err` is one. */
export function serviceErrorName(err: unknown): string | undefined {
  if (!(err instanceof eventstream_rpc.RpcError) || err.type !== eventstream_rpc.RpcErrorType.ServiceError) {
    return undefined;
  }
  const body = err.serviceError as { _errorCode?: unknown } | undefined;
  return typeof body?._errorCode === 'string' ? body._errorCode : 'ServiceError';
}

function serviceErrorMessage(err: eventstream_rpc.RpcError): string {
  const body = err.serviceError as { message?: unknown; _message?: unknown } | undefined;
  const message = body?.message ?? body?._message;
  return typeof message === 'string' ? message : err.description;
}

/** Whether the error means the IPC connection is not usable right now (retry after reconnecting). */
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof eventstream_rpc.RpcError)) return false;
  const T = eventstream_rpc.RpcErrorType;
  // A response the client could not map to the model is a protocol mismatch, not a lost connection.
  if (err.type === T.InternalError && err.description.startsWith('Unexpected response shape')) return false;
  return (
    err.type === T.NetworkError ||
    err.type === T.ClientStateError ||
    err.type === T.InterruptionError ||
    err.type === T.InternalError
  );
}

/** `action` says what was attempted, e.g. "PublishToIoTCore on $aws/things/T/jobs/J/get". */
export function toGgjobsError(err: unknown, action: string): GgjobsError {
  if (isGgjobsError(err)) return err;
  const name = serviceErrorName(err);
  if (name && err instanceof eventstream_rpc.RpcError) {
    return new GreengrassIpcError(`${action} refused by the nucleus: ${name}: ${serviceErrorMessage(err)}`, {
      cause: err,
    });
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
