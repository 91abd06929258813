// clientTokens correlate a Jobs request with its reply. AWS allows up to 64 characters; these are 30.
import { randomBytes } from 'node:crypto';

export function newClientToken(): string {
  return `ggjobs-${randomBytes(12).toString('base64url')}`;
}
