// CreateJob's timeoutConfig, jobExecutionsRetryConfig and abortConfig, checked against AWS's documented
// ranges. Each failure is an InvalidRequestException naming the member and what was expected.

import { MAX_RETRIES, MAX_TIMEOUT_MINUTES } from '../job-configs.js';
import type { AbortCriterion, RetryCriterion } from '../job-model.js';
import { enumValue, invalid, optionalInteger, optionalObject } from './validate.js';

export function timeoutConfig(value: unknown): { inProgressTimeoutInMinutes?: number } | undefined {
  const object = optionalObject(value, 'timeoutConfig');
  if (object === undefined) return undefined;
  const minutes = optionalInteger(
    object.inProgressTimeoutInMinutes,
    'timeoutConfig.inProgressTimeoutInMinutes',
    1,
    MAX_TIMEOUT_MINUTES,
  );
  return minutes === undefined ? {} : { inProgressTimeoutInMinutes: minutes };
}

function criteriaList(value: unknown, field: string, maxItems: number): Record<string, unknown>[] {
  const object = optionalObject(value, field);
  const list = object?.criteriaList;
  if (!Array.isArray(list) || list.length < 1 || list.length > maxItems) {
    throw invalid(`${field}.criteriaList: expected a list of 1 to ${maxItems} criteria`);
  }
  return list.map((item, index) => {
    const criterion = optionalObject(item, `${field}.criteriaList[${index}]`);
    if (criterion === undefined) throw invalid(`${field}.criteriaList[${index}]: expected an object`);
    return criterion;
  });
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw invalid(`${field}: is required`);
  return value;
}

/** jobExecutionsRetryConfig: 1-2 criteria, FAILED | TIMED_OUT | ALL, 0-10 retries each, 10 in total. */
export function retryConfig(value: unknown): RetryCriterion[] | undefined {
  if (value === undefined || value === null) return undefined;
  const field = 'jobExecutionsRetryConfig';
  const criteria = criteriaList(value, field, 2).map((criterion, index): RetryCriterion => {
    const at = `${field}.criteriaList[${index}]`;
    return {
      failureType: required(
        enumValue(criterion.failureType, `${at}.failureType`, ['FAILED', 'TIMED_OUT', 'ALL'] as const),
        `${at}.failureType`,
      ),
      numberOfRetries: required(
        optionalInteger(criterion.numberOfRetries, `${at}.numberOfRetries`, 0, MAX_RETRIES),
        `${at}.numberOfRetries`,
      ),
    };
  });
  if (new Set(criteria.map((c) => c.failureType)).size !== criteria.length) {
    throw invalid(`${field}.criteriaList: each failureType may appear only once`);
  }
  const total = criteria.reduce((sum, c) => sum + c.numberOfRetries, 0);
  if (total > MAX_RETRIES) {
    throw invalid(`${field}.criteriaList: at most ${MAX_RETRIES} retries in total, got ${total}`);
  }
  return criteria;
}

/** abortConfig: criteria of FAILED | REJECTED | TIMED_OUT | ALL, action CANCEL, 0-100 % (2 decimals). */
export function abortConfig(value: unknown): AbortCriterion[] | undefined {
  if (value === undefined || value === null) return undefined;
  const field = 'abortConfig';
  return criteriaList(value, field, 4).map((criterion, index): AbortCriterion => {
    const at = `${field}.criteriaList[${index}]`;
    const threshold = criterion.thresholdPercentage;
    if (
      typeof threshold !== 'number' ||
      !Number.isFinite(threshold) ||
      threshold < 0 ||
      threshold > 100 ||
      Math.abs(Math.round(threshold * 100) - threshold * 100) > 1e-6
    ) {
      throw invalid(
        `${at}.thresholdPercentage: expected a number from 0 to 100 with at most two decimals, got ${JSON.stringify(threshold)}`,
      );
    }
    return {
      failureType: required(
        enumValue(criterion.failureType, `${at}.failureType`, [
          'FAILED',
          'REJECTED',
          'TIMED_OUT',
          'ALL',
        ] as const),
        `${at}.failureType`,
      ),
      action: required(enumValue(criterion.action, `${at}.action`, ['CANCEL'] as const), `${at}.action`),
      thresholdPercentage: threshold,
      minNumberOfExecutedThings: required(
        optionalInteger(
          criterion.minNumberOfExecutedThings,
          `${at}.minNumberOfExecutedThings`,
          1,
          Number.MAX_SAFE_INTEGER,
        ),
        `${at}.minNumberOfExecutedThings`,
      ),
    };
  });
}
