// Eventstream RPC constants shared by the test server's files. Values follow the protocol the
// aws-crt client speaks (see /work/shared/notes/greengrass-ipc.md); names say what they are.

export const MessageType = {
  ApplicationMessage: 0,
  ApplicationError: 1,
  Ping: 2,
  PingResponse: 3,
  Connect: 4,
  ConnectAck: 5,
  ProtocolError: 6,
  InternalError: 7,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export const MessageFlags = {
  None: 0,
  ConnectionAccepted: 1,
  TerminateStream: 2,
} as const;

export const Header = {
  messageType: ':message-type',
  messageFlags: ':message-flags',
  streamId: ':stream-id',
  version: ':version',
  contentType: ':content-type',
  operation: 'operation',
  serviceModelType: 'service-model-type',
} as const;

export const PROTOCOL_VERSION = '0.1.0';
export const JSON_CONTENT_TYPE = 'application/json';
export const SERVICE_NAME = 'aws.greengrass#GreengrassCoreIPC';

/** `aws.greengrass#X` for a bare shape or operation name X. */
export function shape(name: string): string {
  return `aws.greengrass#${name}`;
}

/** Strips the `aws.greengrass#` namespace; undefined when the name is in another namespace. */
export function operationName(qualified: string): string | undefined {
  const prefix = 'aws.greengrass#';
  return qualified.startsWith(prefix) ? qualified.slice(prefix.length) : undefined;
}

/** The modeled errors the server answers with (each is in the error set of the operations using it). */
export type ModeledErrorName = 'ServiceError' | 'UnauthorizedError' | 'ResourceNotFoundError';

/** The JSON body of a modeled error, in the form the nucleus sends it. */
export function modeledErrorBody(name: ModeledErrorName, message: string): Record<string, string> {
  return { message, _message: message, _errorCode: name, _service: SERVICE_NAME };
}
