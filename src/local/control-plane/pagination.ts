// Paging for the List* operations: an opaque nextToken (the offset into a stable, creation-ordered
// list) and maxResults, as the SDK's paginators expect.

import { ServiceError } from '../store-errors.js';
import { integerQuery } from './validate.js';

const TOKEN_PREFIX = 'local-offset-';

export interface PageRequest {
  maxResults?: number;
  nextToken?: string;
}

/** Reads maxResults (1..250) and nextToken from the query string. */
export function pageRequest(query: URLSearchParams): PageRequest {
  const request: PageRequest = {};
  const maxResults = integerQuery(query, 'maxResults', 1, 250);
  if (maxResults !== undefined) request.maxResults = maxResults;
  const nextToken = query.get('nextToken');
  if (nextToken !== null && nextToken !== '') request.nextToken = nextToken;
  return request;
}

export function paginate<T>(items: readonly T[], request: PageRequest): { page: T[]; nextToken?: string } {
  let start = 0;
  if (request.nextToken !== undefined) {
    const digits = request.nextToken.startsWith(TOKEN_PREFIX)
      ? request.nextToken.slice(TOKEN_PREFIX.length)
      : '';
    if (!/^\d{1,9}$/.test(digits)) {
      throw new ServiceError(
        'InvalidRequestException',
        `nextToken '${request.nextToken}' is not a valid token.`,
      );
    }
    start = Number(digits);
  }
  const end = request.maxResults === undefined ? items.length : start + request.maxResults;
  const page = items.slice(start, end);
  return end < items.length ? { page, nextToken: `${TOKEN_PREFIX}${end}` } : { page };
}
