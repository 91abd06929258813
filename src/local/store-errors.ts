// Errors the local store raises. They model AWS's own errors (the local stack imitates AWS), so they
// carry AWS's names rather than ggjobs' GGJOBS_ERR_* codes: the data plane turns a DataPlaneError into
// a `/rejected` reply with `code`, the control plane turns a ServiceError into an HTTP error response
// with the `x-amzn-ErrorType` header the AWS SDK maps to its typed exceptions.

import type { ExecutionStatus } from './execution-rules.js';

export type DataPlaneErrorCode =
  | 'InvalidRequest'
  | 'InvalidStateTransition'
  | 'ResourceNotFound'
  | 'VersionMismatch'
  | 'TerminalStateReached'
  | 'InternalError';

export interface ExecutionState {
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
}

/** A Jobs MQTT (data-plane) request failed; `code` is the Jobs error code of the `/rejected` reply. */
export class DataPlaneError extends Error {
  readonly code: DataPlaneErrorCode;
  /** Present for InvalidStateTransition and VersionMismatch, as AWS includes it in those replies. */
  readonly executionState?: ExecutionState;
  constructor(code: DataPlaneErrorCode, message: string, executionState?: ExecutionState) {
    super(message);
    this.name = 'DataPlaneError';
    this.code = code;
    if (executionState) this.executionState = executionState;
  }
}

/** AWS IoT control-plane error names with the HTTP status AWS answers them with (from the SDK model). */
export const SERVICE_ERROR_STATUS = {
  InvalidRequestException: 400,
  ThrottlingException: 400,
  UnauthorizedException: 401,
  ResourceNotFoundException: 404,
  /** Not an AWS IoT exception: what the local control plane answers for a path it does not serve. */
  UnknownOperationException: 404,
  ResourceAlreadyExistsException: 409,
  VersionConflictException: 409,
  InvalidStateTransitionException: 409,
  LimitExceededException: 410,
  InternalFailureException: 500,
  ServiceUnavailableException: 503,
} as const;

export type ServiceErrorType = keyof typeof SERVICE_ERROR_STATUS;

/** A control-plane request failed with the AWS error `errorType` (answered with `httpStatus`). */
export class ServiceError extends Error {
  readonly errorType: ServiceErrorType;
  readonly httpStatus: number;
  constructor(errorType: ServiceErrorType, message: string) {
    super(message);
    this.name = 'ServiceError';
    this.errorType = errorType;
    this.httpStatus = SERVICE_ERROR_STATUS[errorType];
  }
}
