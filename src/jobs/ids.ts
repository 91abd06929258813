// clientTokens correlate a Jobs request with its reply. AWS allows up to 64 characters; these are 43.
// randomUUID() draws from a cached pool of random bytes (no call into the system RNG per request).
import { randomUUID } from 'node:crypto';

export function newClientToken(): string {
  return `ggjobs-${randomUUID()}`;
}
