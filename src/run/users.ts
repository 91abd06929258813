// Who the agent is, who a step should run as, and whether it may. The decision (resolveRunUser) is a
// pure function of the agent's identity and the looked-up account; the lookup is the only I/O.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { SAFE_PATH } from './environment.js';

export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export type LookupUser = (name: string) => Promise<UserAccount | undefined>;

/** The user the agent process runs as. */
export function currentIdentity(): UserAccount {
  const info = userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid, home: info.homedir };
}

/** `getent passwd NAME` (so NSS/LDAP users resolve), falling back to /etc/passwd when getent is missing. */
export const lookupUser: LookupUser = async (name) => {
  const viaGetent = await new Promise<UserAccount | undefined | 'unavailable'>((resolve) => {
    execFile('getent', ['passwd', name], { timeout: 10_000, env: { PATH: SAFE_PATH } }, (err, stdout) => {
      if (err) {
        // Exit code 2 = no such user; anything else (ENOENT, timeout) = ask /etc/passwd instead.
        resolve((err as { code?: unknown }).code === 2 ? undefined : 'unavailable');
        return;
      }
      resolve(parsePasswd(stdout, name));
    });
  });
  if (viaGetent !== 'unavailable') return viaGetent;
  try {
    return parsePasswd(await readFile('/etc/passwd', 'utf8'), name);
  } catch {
    return undefined;
  }
};

/** Finds NAME in passwd(5) lines: `name:x:uid:gid:gecos:home:shell`. */
export function parsePasswd(text: string, name: string): UserAccount | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7 || fields[0] !== name) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    return { name, uid, gid, home: fields[5] || '/' };
  }
  return undefined;
}

export type RunUser =
  | {
      ok: true;
      account: UserAccount;
      /** Set when a root agent starts the process with another uid/gid itself. */
      switchTo?: { uid: number; gid: number };
      /** Set when a non-root agent must go through `sudo -n -u <sudoAs> --`. */
      sudoAs?: string;
    }
  | { ok: false; reason: string };

/**
 * How a step becomes `user` (already resolved from runAsUser/defaultRunAsUser and checked against
 * executor.allowedRunAsUsers). The agent's own user needs nothing; a root agent starts the process
 * with the user's uid/gid directly (supplementary groups are dropped); any other agent goes through
 * sudo, as the AWS IoT Device Client does, when executor.sudo allows it, and refuses otherwise.
 */
export function resolveRunUser(
  user: string,
  agent: UserAccount,
  account: UserAccount | undefined,
  stepName: string,
  sudo = false,
): RunUser {
  if (user === '' || user === agent.name) return { ok: true, account: agent };
  if (!account)
    return {
      ok: false,
      reason: `step "${stepName}": runAsUser "${user}" does not exist on this device`,
    };
  if (account.uid === agent.uid) return { ok: true, account };
  if (agent.uid === 0) return { ok: true, account, switchTo: { uid: account.uid, gid: account.gid } };
  if (sudo) return { ok: true, account, sudoAs: account.name };
  return {
    ok: false,
    reason: `step "${stepName}": runAsUser "${user}" needs ggjobs to run as root or executor.sudo to be true; it runs as "${agent.name}" (uid ${agent.uid}) with executor.sudo false`,
  };
}
