// Input checks for the control plane, with AWS IoT's documented constraints. Every failure is an
// InvalidRequestException whose message names the field, what was expected and what was given.

import { JOB_ID, NAMESPACE_ID, RESOURCE_NAME } from '../aws-ids.js';
import { isExecutionStatus, statusDetailsProblem } from '../execution-rules.js';
import type { ExecutionStatus, JobStatus, TargetSelection } from '../store.js';
import { ServiceError } from '../store-errors.js';

export const MAX_DOCUMENT_BYTES = 32_768;
export const MAX_COMMENT_LENGTH = 2028;
export const MAX_DESCRIPTION_LENGTH = 2028;

const NO_CONTROL_CHARACTERS = /^[^\p{C}]+$/u;
const REASON_CODE = /^[\p{Lu}\p{Nd}_]{1,128}$/u;

export function invalid(message: string): ServiceError {
  return new ServiceError('InvalidRequestException', message);
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${field}: expected a string, got ${shown(value)}`);
  return value;
}

export function requireString(value: unknown, field: string): string {
  const text = optionalString(value, field);
  if (text === undefined) throw invalid(`${field}: is required`);
  return text;
}

export function jobId(value: unknown, field = 'jobId'): string {
  const text = requireString(value, field);
  if (!JOB_ID.test(text))
    throw invalid(`${field}: expected 1-64 characters of [a-zA-Z0-9_-], got ${shown(text)}`);
  return text;
}

/** Thing and thing group names: 1-128 characters of [a-zA-Z0-9:_-]. */
export function resourceName(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!RESOURCE_NAME.test(text)) {
    throw invalid(`${field}: expected 1-128 characters of [a-zA-Z0-9:_-], got ${shown(text)}`);
  }
  return text;
}

export function optionalResourceName(value: unknown, field: string): string | undefined {
  return value === undefined || value === null ? undefined : resourceName(value, field);
}

export function namespaceId(value: unknown, field = 'namespaceId'): string | undefined {
  const text = optionalString(value, field);
  if (text === undefined || text === '') return undefined;
  if (!NAMESPACE_ID.test(text)) {
    throw invalid(`${field}: expected 1-64 characters of [a-zA-Z0-9_-], got ${shown(text)}`);
  }
  return text;
}

/** Free text (comment, description): at most `max` characters, no control characters. */
export function optionalText(value: unknown, field: string, max: number): string | undefined {
  const text = optionalString(value, field);
  if (text === undefined) return undefined;
  if (text.length > max) throw invalid(`${field}: expected at most ${max} characters, got ${text.length}`);
  if (!NO_CONTROL_CHARACTERS.test(text)) {
    throw invalid(`${field}: expected 1-${max} characters without control characters`);
  }
  return text;
}

export function reasonCode(value: unknown): string | undefined {
  const text = optionalString(value, 'reasonCode');
  if (text !== undefined && !REASON_CODE.test(text)) {
    throw invalid(`reasonCode: expected 1-128 upper-case letters, digits or _, got ${shown(text)}`);
  }
  return text;
}

/** The job document: a JSON object of at most 32,768 bytes (UTF-8). */
export function jobDocument(value: unknown): string {
  const text = requireString(value, 'document');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw invalid(`document: expected at most ${MAX_DOCUMENT_BYTES} bytes, got ${bytes}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalid(`document: expected a JSON object, but it is not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid('document: expected a JSON object');
  }
  return text;
}

/** A non-empty list of target ARNs (their existence is the store's check). */
export function targets(value: unknown, field = 'targets'): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(`${field}: expected a non-empty list of thing or thing group ARNs, got ${shown(value)}`);
  }
  return value.map((item, index) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > 2048) {
      throw invalid(`${field}[${index}]: expected an ARN string, got ${shown(item)}`);
    }
    return item;
  });
}

export function enumValue<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field}: expected one of ${allowed.join(', ')}, got ${shown(value)}`);
  }
  return value as T;
}

export const TARGET_SELECTIONS: readonly TargetSelection[] = ['CONTINUOUS', 'SNAPSHOT'];
export const JOB_STATUSES: readonly JobStatus[] = [
  'IN_PROGRESS',
  'CANCELED',
  'COMPLETED',
  'DELETION_IN_PROGRESS',
  'SCHEDULED',
];

export function executionStatus(value: unknown, field = 'status'): ExecutionStatus | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isExecutionStatus(value)) {
    throw invalid(
      `${field}: expected one of QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED, CANCELED, got ${shown(value)}`,
    );
  }
  return value;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`${field}: expected an object, got ${shown(value)}`);
  return value as Record<string, unknown>;
}

export function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  const object = optionalObject(value, field);
  if (object === undefined) return undefined;
  for (const [key, item] of Object.entries(object)) {
    if (typeof item !== 'string') throw invalid(`${field}.${key}: expected a string, got ${shown(item)}`);
  }
  return object as Record<string, string>;
}

export function statusDetails(value: unknown): Record<string, string> | undefined {
  const problem = statusDetailsProblem(value ?? undefined);
  if (problem) throw invalid(problem);
  return (value ?? undefined) as Record<string, string> | undefined;
}

export function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field}: expected an integer from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

export function booleanQuery(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (value !== 'true' && value !== 'false')
    throw invalid(`${name}: expected true or false, got ${shown(value)}`);
  return value === 'true';
}

export function integerQuery(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value))
    throw invalid(`${name}: expected an integer from ${min} to ${max}, got ${shown(value)}`);
  return optionalInteger(Number(value), name, min, max);
}
