// Every error ggjobs raises on purpose is declared here, with a stable `code` that logs, tests and the
// CLI's exit-code mapping (src/cli/exit-codes.ts, the only place that maps codes to exit codes) rely on.
// Add new errors to this file; never match on `message`, always on `code`.

export class GgjobsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

function declare(code: string) {
  return class extends GgjobsError {
    static readonly code = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

// --- configuration (exit 2) ---
/** A config value (file, env, flag or Greengrass configuration) is invalid; the message names the key. */
export class ConfigInvalidError extends declare('GGJOBS_ERR_CONFIG_INVALID') {}
/** The config file cannot be read or parsed (missing, unreadable, not YAML/JSON). */
export class ConfigFileError extends declare('GGJOBS_ERR_CONFIG_FILE') {}
/** A command-line usage error (unknown command, bad flag value). */
export class UsageError extends declare('GGJOBS_ERR_USAGE') {}

// --- enroll: the job cannot take this group (exit 3) ---
export class JobNotFoundError extends declare('GGJOBS_ERR_JOB_NOT_FOUND') {}
export class ThingGroupNotFoundError extends declare('GGJOBS_ERR_THING_GROUP_NOT_FOUND') {}
/** The thing's groups do not resolve to exactly one candidate. */
export class ThingGroupAmbiguousError extends declare('GGJOBS_ERR_THING_GROUP_AMBIGUOUS') {}
export class JobNotContinuousError extends declare('GGJOBS_ERR_JOB_NOT_CONTINUOUS') {}
export class JobNotInProgressError extends declare('GGJOBS_ERR_JOB_NOT_IN_PROGRESS') {}
export class JobTargetsFullError extends declare('GGJOBS_ERR_JOB_TARGETS_FULL') {}
/** The service refused the association for a reason not covered above (InvalidRequestException). */
export class AssociationRefusedError extends declare('GGJOBS_ERR_ASSOCIATION_REFUSED') {}
/** The job is in another namespace than config namespaceId (the device would listen on the wrong topics). */
export class JobNamespaceMismatchError extends declare('GGJOBS_ERR_JOB_NAMESPACE_MISMATCH') {}
/** AWS refused the device's credentials or its IAM policy does not allow the call. */
export class ControlPlaneAccessDeniedError extends declare('GGJOBS_ERR_CONTROL_PLANE_ACCESS_DENIED') {}

// --- AWS unreachable / still throttled after retries (exit 4) ---
export class ControlPlaneUnavailableError extends declare('GGJOBS_ERR_CONTROL_PLANE_UNAVAILABLE') {}

// --- data plane / transport ---
export class TransportOfflineError extends declare('GGJOBS_ERR_TRANSPORT_OFFLINE') {}
export class TransportConnectError extends declare('GGJOBS_ERR_TRANSPORT_CONNECT') {}
/** A Jobs MQTT request got no reply within its timeout (after its bounded retries). */
export class JobsRequestTimeoutError extends declare('GGJOBS_ERR_JOBS_REQUEST_TIMEOUT') {}
/** A Jobs MQTT request was answered on `/rejected`; `rejectedCode` is the service's code. */
export class JobsRequestRejectedError extends GgjobsError {
  static readonly code = 'GGJOBS_ERR_JOBS_REQUEST_REJECTED';
  readonly rejectedCode: string;
  readonly payload: unknown;
  constructor(rejectedCode: string, message: string, payload?: unknown) {
    super('GGJOBS_ERR_JOBS_REQUEST_REJECTED', `${rejectedCode}: ${message}`);
    this.rejectedCode = rejectedCode;
    this.payload = payload;
  }
}
/** The state directory / journal cannot be read or written. */
export class JournalError extends declare('GGJOBS_ERR_JOURNAL') {}
/** Another live agent holds `<stateDirectory>/agent.lock` (exit 1). */
export class StateDirectoryLockedError extends declare('GGJOBS_ERR_STATE_DIRECTORY_LOCKED') {}

// --- job documents and execution ---
/** The job document is malformed; the execution is reported REJECTED with this message as reason. */
export class JobDocumentInvalidError extends declare('GGJOBS_ERR_JOB_DOCUMENT_INVALID') {}
/** A handler or command may not run (path escape, unsafe mode, not allowed); the job FAILS. */
export class ExecutionRefusedError extends declare('GGJOBS_ERR_EXECUTION_REFUSED') {}
export class DownloadError extends declare('GGJOBS_ERR_DOWNLOAD') {}
/** The job was aborted (service cancel or shutdown) while running; thrown by RunJob after every
 *  process it started is gone. `step` names the step that was running, if any. */
export class JobAbortedError extends GgjobsError {
  static readonly code = 'GGJOBS_ERR_JOB_ABORTED';
  readonly step: string | undefined;
  constructor(message: string, step?: string, options?: { cause?: unknown }) {
    super('GGJOBS_ERR_JOB_ABORTED', message, options);
    this.step = step;
  }
}

// --- privilege separation (`ggjobs sudoers`, exit 1) ---
/** The sudo rule cannot be generated safely (a writable handler directory, an unknown user) or visudo
 *  rejected it; nothing was changed. */
export class SudoersError extends declare('GGJOBS_ERR_SUDOERS') {}

// --- greengrass ---
export class GreengrassIpcError extends declare('GGJOBS_ERR_GREENGRASS_IPC') {}

// --- local stack ---
/** A local stack listener (MQTT or HTTP) cannot listen: port in use, not permitted, bad host. */
export class LocalStackListenError extends declare('GGJOBS_ERR_LOCAL_LISTEN') {}

export function isGgjobsError(err: unknown): err is GgjobsError {
  return err instanceof GgjobsError;
}
/** The local stack's TLS certificates cannot be created, read or used (`ggjobs local --tls`, `local certs`). */
export class LocalTlsError extends declare('GGJOBS_ERR_LOCAL_TLS') {}
