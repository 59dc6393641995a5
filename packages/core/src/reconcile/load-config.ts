import type { LoadedConfig } from '../config/config.ts';
import { loadConfig } from '../config/parse-config.ts';
import type { Environment } from '../environment/environment.ts';
import { WRITERS } from '../environment/permissions.ts';
import type { ReconcileDeps } from './deps.ts';

type ConfigDeps = Pick<ReconcileDeps, 'source' | 'settings'>;

/** `.matinee.yml` at `sha`, read from the repository now and validated. */
export async function readConfigAt(deps: ConfigDeps, repo: string, sha: string): Promise<LoadedConfig> {
  return loadConfig(sha, await deps.source.readConfig(repo, sha), deps.settings.defaults);
}

/**
 * The environment with its config (and a fork's policy) loaded. `fresh`: the config was read from the
 * repository by this reconcile, not taken from the stored record.
 */
export async function withConfig(
  deps: ConfigDeps,
  env: Environment,
): Promise<{ env: Environment; fresh: boolean }> {
  const { repo, desired, pr } = env;
  let next = env;
  const fresh = env.config?.sha !== desired.sha;
  if (fresh) next = { ...next, config: await readConfigAt(deps, repo, desired.sha) };
  // A fork's own file must not decide whether the fork is deployed: its policy comes from the base commit.
  if (pr.fork && next.policy?.sha !== pr.baseSha) {
    next = { ...next, policy: await readConfigAt(deps, repo, pr.baseSha) };
  }
  if (!pr.fork && next.policy) next = { ...next, policy: undefined };
  // A fork's deploy label counts only when its author may write to the repository, and only for the commit
  // that was the head when it was added: what the fork pushes afterwards has not been looked at.
  const label = next.policy?.status === 'ok' ? next.policy.value.forks.label : undefined;
  const labeler = label && pr.labels.includes(label) ? pr.labeledBy?.[label] : undefined;
  const labeledAt = label ? pr.labeledAt?.[label] : undefined;
  const approval = next.forkApproval;
  const known = approval?.user === labeler && approval?.sha === labeledAt;
  // A writer's command approving the current commit (approve, redeploy) outranks the label's approval of
  // an older one.
  const current = approval?.allowed && approval.sha === desired.sha;
  if (pr.fork && labeler && labeledAt && !known && !current) {
    const permission = await deps.source.permission(repo, labeler);
    next = {
      ...next,
      forkApproval: { user: labeler, allowed: WRITERS.has(permission), sha: labeledAt, via: 'label' },
    };
  }
  return { env: next, fresh };
}
