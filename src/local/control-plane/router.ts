// A small routing table for the control plane: each AWS IoT operation is one row (HTTP method + the
// path pattern from the SDK's model + handler). Matching is by method and segment-wise path, with
// `{label}` matching exactly one non-empty, URI-decoded segment.

import type { LocalStore } from '../store.js';
import { ServiceError } from '../store-errors.js';

export interface ControlPlaneRequest {
  /** Decoded `{label}` values of the path. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; {} when the request had none. */
  body: Record<string, unknown>;
}

export interface ControlPlaneContext {
  store: LocalStore;
}

/** Returns the response body (a JSON object); undefined answers an empty 200 (AWS's "unit" outputs). */
export type Handler = (request: ControlPlaneRequest, context: ControlPlaneContext) => object | undefined;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** As in the SDK's model, e.g. '/jobs/{jobId}/targets'. */
  path: string;
  /** The AWS operation name; also the RequestGate key. */
  operation: string;
  handle: Handler;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServiceError(
      'InvalidRequestException',
      `The path segment '${segment}' is not valid URI encoding.`,
    );
  }
}

/** Finds the route for a request; undefined when no route has this method and path. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): RouteMatch | undefined {
  const actual = segments(pathname);
  for (const route of routes) {
    if (route.method !== method) continue;
    const expected = segments(route.path);
    if (expected.length !== actual.length) continue;
    const params: Record<string, string> = {};
    const matches = expected.every((part, index) => {
      const segment = actual[index]!;
      if (part.startsWith('{') && part.endsWith('}')) {
        params[part.slice(1, -1)] = decodeSegment(segment);
        return true;
      }
      return part === segment;
    });
    if (matches) return { route, params };
  }
  return undefined;
}
