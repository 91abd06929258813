// The checks made for the whole document before its first step runs, so a document that asks for
// something outside the allowlists is REJECTED with nothing done: every runHandler step's handler
// resolves to a trusted file in an allowed directory, and every download step reads an allowed URL
// and writes inside executor.downloadDirectories. Each step repeats its check right before it runs
// (the file system may change in between); a failure then ends the job FAILED.
import type { JobPlan } from './document/schema.js';
import { checkDestination, checkDownloadUrl, type DownloadPolicy } from './download-policy.js';
import { describeFsError, resolveHandler } from './handler-resolution.js';
import { stepLabel } from './steps.js';

export interface PreflightInput {
  defaultHandlerDirectory: string;
  handlerDirectories: readonly string[];
  download: DownloadPolicy;
  agentUid: number;
}

export async function preflight(
  plan: JobPlan,
  input: PreflightInput,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    return await check(plan, input);
  } catch (err) {
    // A file system race (a directory removed between realpath and stat): refuse, never throw.
    return { ok: false, reason: `the document could not be checked: ${describeFsError(err)}` };
  }
}

async function check(
  plan: JobPlan,
  input: PreflightInput,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  for (const step of plan.steps) {
    const action = step.action;
    const label = stepLabel(step.name);
    if (action.type === 'runHandler') {
      const resolved = resolveHandler({
        handler: action.handler,
        requestedDirectory: action.directory,
        defaultDirectory: input.defaultHandlerDirectory,
        allowedDirectories: input.handlerDirectories,
        agentUid: input.agentUid,
      });
      if (!resolved.ok) return { ok: false, reason: `${label}: ${resolved.reason}` };
    } else if (action.type === 'download') {
      const urlProblem = checkDownloadUrl(action.url, input.download);
      if (urlProblem) return { ok: false, reason: `${label}: ${urlProblem}` };
      const destination = await checkDestination(action.destination, input.download);
      if (!destination.ok) return { ok: false, reason: `${label}: ${destination.reason}` };
    }
  }
  return { ok: true };
}
