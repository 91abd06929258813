// Writing control-plane responses the way AWS IoT's REST-JSON protocol does: a JSON body on success,
// and on failure the error name in `x-amzn-ErrorType` with `{"message": ...}` and the modelled HTTP
// status, which is what the AWS SDK reads to throw its typed exception.

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ServiceError } from '../store-errors.js';

function send(
  response: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  response.end(text);
}

export function sendResult(response: ServerResponse, body: object | undefined): void {
  send(response, 200, body ?? {});
}

export function sendServiceError(response: ServerResponse, error: ServiceError): void {
  const body: Record<string, string> = { message: error.message };
  send(response, error.httpStatus, body, { 'x-amzn-errortype': error.errorType });
}
