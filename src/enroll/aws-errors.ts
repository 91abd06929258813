// Classifying what the AWS SDK throws. We never match on messages: only on the exception name the
// service sends (x-amzn-ErrorType), Node's network error codes and the HTTP status.

export interface ErrorFacts {
  name: string;
  message: string;
  code?: string;
  httpStatusCode?: number;
}

export function errorFacts(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err) };
  const e = err as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    code: typeof e.code === 'string' ? e.code : undefined,
    httpStatusCode: typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined,
  };
}

/** `ThrottlingException: Rate exceeded` (one line; for logs and error messages). */
export function describeError(err: unknown): string {
  const { name, message, code } = errorFacts(err);
  const text = message ? `${name}: ${message}` : name;
  const withCode = code && !text.includes(code) ? `${text} (${code})` : text;
  return withCode.replace(/\s+/g, ' ').slice(0, 300);
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalFailureException',
  'InternalServerException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  // No credentials yet: on a Greengrass core the token exchange service may still be starting.
  'CredentialsProviderError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
]);

const ACCESS_DENIED_NAMES = new Set([
  'UnauthorizedException',
  'AccessDeniedException',
  'ForbiddenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** Throttled, unavailable, 5xx or a network failure: worth another attempt after a pause. */
export function isRetryableError(err: unknown): boolean {
  const facts = errorFacts(err);
  if (RETRYABLE_NAMES.has(facts.name)) return true;
  if (facts.code !== undefined && NETWORK_CODES.has(facts.code)) return true;
  if (facts.httpStatusCode !== undefined && (facts.httpStatusCode >= 500 || facts.httpStatusCode === 429)) {
    return true;
  }
  return false;
}

export function isAccessDenied(err: unknown): boolean {
  const facts = errorFacts(err);
  return ACCESS_DENIED_NAMES.has(facts.name) || facts.httpStatusCode === 401 || facts.httpStatusCode === 403;
}

export function hasErrorName(err: unknown, name: string): boolean {
  return errorFacts(err).name === name;
}
