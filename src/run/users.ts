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
  /** `switchTo` is set when the process must be started with another uid/gid. */
  { ok: true; account: UserAccount; switchTo?: { uid: number; gid: number } } | { ok: false; reason: string };

/**
 * The Device Client runs steps through `sudo -u USER`; ggjobs starts the process with the user's uid/gid
 * directly (supplementary groups are dropped). Only root can do that, so a non-root agent runs steps
 * as itself and refuses any other runAsUser instead of silently ignoring it.
 */
export function resolveRunUser(
  runAsUser: string,
  agent: UserAccount,
  account: UserAccount | undefined,
  stepName: string,
): RunUser {
  if (runAsUser === '' || runAsUser === agent.name) return { ok: true, account: agent };
  if (!account)
    return {
      ok: false,
      reason: `step "${stepName}": runAsUser "${runAsUser}" does not exist on this device`,
    };
  if (account.uid === agent.uid) return { ok: true, account };
  if (agent.uid !== 0)
    return {
      ok: false,
      reason: `step "${stepName}": runAsUser "${runAsUser}" needs ggjobs to run as root; it runs as "${agent.name}" (uid ${agent.uid})`,
    };
  return { ok: true, account, switchTo: { uid: account.uid, gid: account.gid } };
}
