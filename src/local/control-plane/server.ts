// The local AWS IoT control plane: a plain node:http server speaking AWS IoT's REST-JSON protocol on
// AWS's paths, so an unmodified IoTClient from @aws-sdk/client-iot can use it (request signatures are
// not checked). Each request is routed, passed through the RequestGate (counted; throttled requests are
// answered with ThrottlingException), then handled against the shared LocalStore.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import type { RequestGate } from '../request-gate.js';
import type { LocalStore } from '../store.js';
import { ServiceError } from '../store-errors.js';
import { jobExecutionRoutes } from './job-executions.js';
import { jobRoutes } from './jobs.js';
import { sendResult, sendServiceError } from './responses.js';
import { matchRoute, type Route } from './router.js';
import { thingGroupRoutes } from './thing-groups.js';
import { thingRoutes } from './things.js';

export interface ControlPlaneDeps {
  store: LocalStore;
  gate: RequestGate;
  logger: Logger;
}

export const CONTROL_PLANE_ROUTES: readonly Route[] = [
  ...thingGroupRoutes,
  ...thingRoutes,
  ...jobExecutionRoutes,
  ...jobRoutes,
];

/** Far above the largest valid request (a 32 KB job document plus members); larger bodies are refused. */
const MAX_BODY_BYTES = 1024 * 1024;

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep reading (and dropping) so the connection stays usable; report the overflow at the end.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ServiceError(
      'InvalidRequestException',
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServiceError('InvalidRequestException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

async function handle(
  deps: ControlPlaneDeps,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const method = request.method ?? 'GET';
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://local');
  } catch {
    url = new URL('http://local/');
  }
  let operation = 'unknown';
  try {
    const raw = await readBody(request);
    const match = matchRoute(CONTROL_PLANE_ROUTES, method, url.pathname);
    if (!match) {
      throw new ServiceError(
        'UnknownOperationException',
        `No operation is served at ${method} ${url.pathname}.`,
      );
    }
    operation = match.route.operation;
    if (!deps.gate.admit(operation)) {
      throw new ServiceError('ThrottlingException', `Rate exceeded for ${operation}.`);
    }
    if (raw === undefined) {
      throw new ServiceError('InvalidRequestException', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    }
    const body = parseBody(raw);
    const result = match.route.handle(
      { params: match.params, query: url.searchParams, body },
      { store: deps.store },
    );
    deps.logger.debug({ operation, method, path: url.pathname }, 'control plane request');
    sendResult(response, result);
  } catch (err) {
    if (err instanceof ServiceError) {
      deps.logger.debug(
        { operation, errorType: err.errorType, message: err.message },
        'control plane request refused',
      );
      sendServiceError(response, err);
      return;
    }
    deps.logger.error({ err, operation, method, path: url.pathname }, 'control plane request failed');
    sendServiceError(response, new ServiceError('InternalFailureException', 'Internal failure.'));
  }
}

/** The control-plane HTTP server (not listening yet: the caller listens and closes it). */
export function createControlPlaneServer(deps: ControlPlaneDeps): Server {
  return createServer((request, response) => {
    handle(deps, request, response).catch((err: unknown) => {
      // Only reachable if writing the response itself failed (e.g. the client went away).
      deps.logger.warn({ err }, 'control plane response failed');
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
}
