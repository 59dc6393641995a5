import { type EnvironmentId, normalizeRepo } from '../environment/environment.ts';
import { buildKey } from '../environment/policy.ts';
import type { RecordDeps } from './pull-request.ts';
import { updateEnvironment } from './update.ts';

export interface WorkflowRunCompleted {
  repo: string;
  headSha: string;
  /** The workflow's name, as `.matinee.yml`'s `workflow` names it. */
  workflow: string;
  conclusion: string;
  url?: string;
}

/**
 * A GitHub Actions run finished. Environments waiting on this commit record it and reconcile: a success
 * deploys the commit, anything else is shown as the reason it is not deployed. A success also clears the
 * failure an earlier failed run of the same workflow left on the commit (a re-run that passed), but no
 * other failure: a commit whose tasks crashed still needs a push or `/matinee redeploy`.
 */
export async function onWorkflowRun(deps: RecordDeps, run: WorkflowRunCompleted): Promise<EnvironmentId[]> {
  const key = buildKey(run.headSha, run.workflow);
  const waiting = (await deps.store.listByRepo(normalizeRepo(run.repo))).filter(
    (env) => env.desired.phase !== 'deleted' && env.desired.sha === run.headSha,
  );
  const recorded: EnvironmentId[] = [];
  for (const { id } of waiting) {
    const { written } = await updateEnvironment(deps.store, id, (current) => {
      if (!current || current.desired.sha !== run.headSha) return { result: undefined };
      // Only runs of the current commit matter; older ones are dropped as the map is rewritten.
      const builds = Object.fromEntries(
        Object.entries(current.builds ?? {}).filter(([k]) => k.startsWith(`${run.headSha} `)),
      );
      builds[key] = { conclusion: run.conclusion, url: run.url };
      const failure = current.observed.failure;
      const rebuilt =
        run.conclusion === 'success' && failure?.sha === run.headSha && failure.workflow === run.workflow;
      const observed = rebuilt ? { ...current.observed, failure: undefined } : current.observed;
      return { env: { ...current, builds, observed }, result: undefined };
    });
    if (written) recorded.push(id);
  }
  if (recorded.length)
    await deps.bus.requestReconcile(recorded, `workflow ${run.workflow} ${run.conclusion}`);
  return recorded;
}
