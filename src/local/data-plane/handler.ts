// What every data-plane operation handler receives and returns. Handlers are synchronous calls into
// the store that return the `/accepted` body (without timestamp and clientToken, which the dispatcher
// adds) or throw the store's DataPlaneError, which the dispatcher turns into a `/rejected` reply.
import type { LocalStore } from '../store.js';

/** The thing, job and namespace a request topic names. */
export interface RequestTarget {
  thingName: string;
  /** Describe and update only; may be `$next` for describe. */
  jobId?: string;
  /** undefined = the default namespace. */
  namespaceId?: string;
}

export type OperationHandler<Request> = (
  store: LocalStore,
  target: RequestTarget,
  request: Request,
) => object;
