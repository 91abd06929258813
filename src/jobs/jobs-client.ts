// Request/response over the namespaced Jobs topics: describe (get) and update, each correlated with its
// reply by a fresh clientToken, with a per-request timeout and a bounded retry of the failures the
// service calls transient (RequestThrottled, InternalError) and of timeouts. Every other rejection is
// final for that request and surfaces as JobsRequestRejectedError with the service's code.
import type { z } from 'zod';
import { JobsRequestRejectedError, JobsRequestTimeoutError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Transport } from '../transport/types.js';
import { backoffDelay } from './backoff.js';
import { newClientToken } from './ids.js';
import {
  type DescribeAccepted,
  describeAcceptedSchema,
  MAX_PAYLOAD_BYTES,
  type Rejected,
  rejectedSchema,
  type UpdateAccepted,
  updateAcceptedSchema,
} from './payloads.js';
import { type JobIds, jobsTopics } from './topics.js';

export const RETRYABLE_REJECTIONS = new Set(['RequestThrottled', 'InternalError']);

export interface JobsClientOptions {
  transport: Transport;
  ids: JobIds;
  requestTimeoutMs: number;
  /** Further attempts after a timeout, RequestThrottled or InternalError. */
  requestRetries: number;
  log: Logger;
  /** First pause between attempts (doubles, capped at requestTimeoutMs). */
  retryMinMs?: number;
}

export interface DescribeRequest {
  executionNumber?: number;
  includeJobDocument?: boolean;
}

export interface UpdateRequest {
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED';
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  executionNumber?: number;
  includeJobExecutionState?: boolean;
  includeJobDocument?: boolean;
  /** Replaces the execution's step timer (1..10080); the service times it out when it expires. */
  stepTimeoutInMinutes?: number;
}

type Kind = 'get' | 'update';

interface Pending {
  kind: Kind;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** True for failures worth another attempt of the same request. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof JobsRequestTimeoutError) return true;
  return err instanceof JobsRequestRejectedError && RETRYABLE_REJECTIONS.has(err.rejectedCode);
}

export class JobsClient {
  private readonly pending = new Map<string, Pending>();
  private readonly topics;
  private closed = false;
  private readonly onDisconnected = () =>
    this.failAll(new TransportOfflineError('connection lost before reply'));

  constructor(private readonly opts: JobsClientOptions) {
    this.topics = jobsTopics(opts.ids);
  }

  /** Subscribes to the four reply topics (exact topics, no wildcards). */
  async start(): Promise<void> {
    const t = this.topics;
    const { transport } = this.opts;
    transport.on('disconnected', this.onDisconnected);
    await transport.subscribe(t.getAccepted, (_, p) => this.onReply('get', true, p));
    await transport.subscribe(t.getRejected, (_, p) => this.onReply('get', false, p));
    await transport.subscribe(t.updateAccepted, (_, p) => this.onReply('update', true, p));
    await transport.subscribe(t.updateRejected, (_, p) => this.onReply('update', false, p));
  }

  describe(req: DescribeRequest = {}): Promise<DescribeAccepted> {
    return this.request('get', { ...req }) as Promise<DescribeAccepted>;
  }

  update(req: UpdateRequest): Promise<UpdateAccepted> {
    return this.request('update', { ...req }) as Promise<UpdateAccepted>;
  }

  /** Fails every outstanding request; later requests fail at once. */
  close(): void {
    this.closed = true;
    this.opts.transport.off('disconnected', this.onDisconnected);
    this.failAll(new TransportOfflineError('jobs client closed'));
  }

  private async request(kind: Kind, body: Record<string, unknown>): Promise<unknown> {
    const { requestRetries, requestTimeoutMs, retryMinMs = 200, log } = this.opts;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(kind, body);
      } catch (err) {
        if (this.closed || attempt >= requestRetries || !isRetryable(err)) throw err;
        const delay = backoffDelay(attempt + 1, retryMinMs, requestTimeoutMs);
        log.debug({ kind, attempt: attempt + 1, delay, err: (err as Error).message }, 'jobs request retry');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private once(kind: Kind, body: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new TransportOfflineError('jobs client closed'));
    const clientToken = newClientToken();
    const topic = kind === 'get' ? this.topics.get : this.topics.update;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(clientToken);
        reject(
          new JobsRequestTimeoutError(
            `no reply to ${kind} on ${topic} within ${this.opts.requestTimeoutMs} ms`,
          ),
        );
      }, this.opts.requestTimeoutMs);
      this.pending.set(clientToken, { kind, resolve, reject, timer });
      this.opts.transport.publish(topic, JSON.stringify({ ...body, clientToken }), 1).catch((err: Error) => {
        const p = this.pending.get(clientToken);
        if (!p) return;
        this.pending.delete(clientToken);
        clearTimeout(p.timer);
        reject(err);
      });
    });
  }

  private onReply(kind: Kind, accepted: boolean, payload: Buffer): void {
    const { log } = this.opts;
    if (payload.byteLength > MAX_PAYLOAD_BYTES) {
      log.warn({ kind, bytes: payload.byteLength }, 'ignoring oversized jobs reply');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn({ kind, accepted }, 'ignoring jobs reply that is not JSON');
      return;
    }
    const token = (json as { clientToken?: unknown } | null)?.clientToken;
    const pending = typeof token === 'string' ? this.pending.get(token) : undefined;
    if (!pending || pending.kind !== kind) {
      // Replies to requests that already timed out, or to another client of the same thing.
      log.debug({ kind, accepted, clientToken: token }, 'ignoring jobs reply to no pending request');
      return;
    }
    const schema: z.ZodType = accepted
      ? kind === 'get'
        ? describeAcceptedSchema
        : updateAcceptedSchema
      : rejectedSchema;
    const res = schema.safeParse(json);
    if (!res.success) {
      // Left pending: the request times out and is retried, as if the reply had been lost.
      log.warn({ kind, accepted, issue: res.error.issues[0]?.message }, 'ignoring malformed jobs reply');
      return;
    }
    this.pending.delete(token as string);
    clearTimeout(pending.timer);
    if (accepted) pending.resolve(res.data);
    else {
      const r = res.data as Rejected;
      pending.reject(new JobsRequestRejectedError(r.code, r.message ?? 'rejected', r));
    }
  }

  private failAll(err: Error): void {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
