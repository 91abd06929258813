// Pure decisions of the data-plane-first enrollment: whether the enrollment recorded in the state
// directory still stands, how long a device waits at a first boot before it may use the control
// plane, and when a record is due to be verified again. No I/O: time and randomness are arguments.

/** What the state directory remembers of a successful enrollment. */
export interface EnrollmentRecord {
  /** enrollmentKey() of the configuration it was made for. */
  key: string;
  /** How it was known: a control-plane answer, or an execution seen on the data plane. */
  via: 'associated' | 'already-associated' | 'has-execution';
  jobArn?: string;
  thingGroupArn?: string;
  /** Milliseconds since the epoch. */
  verifiedAt: number;
  /** When it is to be checked again (jittered at write time so a fleet does not re-check at once). */
  reverifyAt: number;
}

/** The configuration an enrollment is for; a record for anything else does not count. */
export interface EnrollmentIdentity {
  thingName: string;
  region: string;
  jobId: string;
  namespaceId: string;
  thingGroupArn?: string;
  thingGroupName?: string;
  groupPattern?: string;
  endpoint?: string;
}

export function enrollmentKey(id: EnrollmentIdentity): string {
  return JSON.stringify([
    id.thingName,
    id.region,
    id.jobId,
    id.namespaceId,
    id.thingGroupArn ?? '',
    id.thingGroupName ?? '',
    id.groupPattern ?? '',
    id.endpoint ?? '',
  ]);
}

/**
 * 'fresh': enrolled, nothing to ask anyone. 'stale': was enrolled, time to verify (on the data plane
 * first). 'none': no usable record (first boot, or the configuration changed).
 */
export type RecordStanding = 'fresh' | 'stale' | 'none';

export function recordStanding(
  record: EnrollmentRecord | undefined,
  key: string,
  now: number,
): RecordStanding {
  if (!record || record.key !== key) return 'none';
  // A clock that went backwards past the verification time (RTC reset) makes the record stale,
  // not eternal.
  if (now < record.verifiedAt || now >= record.reverifyAt) return 'stale';
  return 'fresh';
}

/** reverifyAt for a record verified at `now`: between half and all of `reverifyMs` later. */
export function nextReverifyAt(now: number, reverifyMs: number, random: () => number): number {
  return now + Math.round(reverifyMs * (0.5 + 0.5 * random()));
}

/**
 * Steepness of the first-boot wait distribution. With 7, a group of 100 devices booting together
 * sees its first device act after about 55% of the window and the next ones only after that one's
 * association is visible; a device alone waits about 85% of the window.
 */
export const FIRST_BOOT_WAIT_STEEPNESS = 7;

/**
 * How long a device waits at a first boot, after its data-plane look found no execution, before it
 * looks again and (if still nothing) calls the control plane. A truncated exponential over
 * [0, maxMs] (the feedback-suppression timer of reliable multicast): few devices of a group wake
 * early, most wake late, so whatever the group's size about one device does the association and
 * the others find the execution it created. Uniform waits would need a window as long as the
 * throttled control plane needs for the whole fleet.
 */
export function firstBootWaitMs(maxMs: number, random: () => number): number {
  if (maxMs <= 0) return 0;
  const k = FIRST_BOOT_WAIT_STEEPNESS;
  const u = Math.min(Math.max(random(), 0), 1);
  return Math.round((maxMs / k) * Math.log1p(u * Math.expm1(k)));
}

/** What a data-plane look at the device's own execution of the job found. */
export type ProbeResult = 'execution' | 'none';

/** The next step of the enrollment after a data-plane look (pure; `enroll` does the I/O). */
export type EnrollStep = 'enrolled' | 'wait-and-look-again' | 'control-plane';

export function stepAfterProbe(
  found: ProbeResult | 'unknown',
  standing: RecordStanding,
  lookedAgain: boolean,
): EnrollStep {
  if (found === 'execution') return 'enrolled';
  // First boot: give the group's other devices a chance to have done it. A stale record that finds
  // nothing means something changed (the group was removed from the job): go and check at once.
  if (!lookedAgain && standing === 'none') return 'wait-and-look-again';
  return 'control-plane';
}
