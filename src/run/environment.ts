// The environment a step's process gets. Nothing is inherited from the agent: its environment holds
// AWS credentials (AWS_*), the Greengrass IPC token (SVCUID) and whatever else the service manager
// set, none of which a job handler should see. The set is:
//   PATH     SAFE_PATH (a fixed system path; executor.environment may replace it)
//   HOME     the run user's home directory
//   USER, LOGNAME  the run user's name
//   LANG     the agent's LANG when it is a plain locale name, else C.UTF-8
//   executor.environment entries (operator-chosen, e.g. http_proxy or GGJOBS_DRY_RUN=1)
//   GGJOBS_JOB_ID, GGJOBS_EXECUTION_NUMBER, GGJOBS_THING_NAME, GGJOBS_NAMESPACE_ID (always last: not overridable)

export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_LANG = 'C.UTF-8';

export interface EnvironmentInput {
  user: { name: string; home: string };
  job: { jobId: string; executionNumber: number; thingName: string; namespaceId: string };
  /** The agent's LANG (process.env.LANG); used only when it looks like a locale name. */
  agentLang?: string;
  extra?: Readonly<Record<string, string>>;
}

export function buildChildEnvironment(input: EnvironmentInput): Record<string, string> {
  const lang =
    input.agentLang && /^[A-Za-z0-9_.@-]{1,64}$/.test(input.agentLang) ? input.agentLang : DEFAULT_LANG;
  return {
    PATH: SAFE_PATH,
    HOME: input.user.home,
    USER: input.user.name,
    LOGNAME: input.user.name,
    LANG: lang,
    ...input.extra,
    GGJOBS_JOB_ID: input.job.jobId,
    GGJOBS_EXECUTION_NUMBER: String(input.job.executionNumber),
    GGJOBS_THING_NAME: input.job.thingName,
    GGJOBS_NAMESPACE_ID: input.job.namespaceId,
  };
}
