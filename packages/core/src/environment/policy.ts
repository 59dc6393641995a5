import type { LoadedConfig } from '../config/config.ts';
import { CONFIG_FILE } from '../config/file-name.ts';
import { matchesGlob } from '../config/glob.ts';
import type { Environment, PullRequestFacts } from './environment.ts';

/** Where the run of `workflow` for `sha` is recorded in `Environment.builds`. */
export function buildKey(sha: string, workflow: string): string {
  return `${sha} ${workflow}`;
}

function invalid(problems: string[]): string {
  return `${CONFIG_FILE} is invalid:\n${problems.map((problem) => `- ${problem}`).join('\n')}`;
}

/**
 * `failed`: the commit itself cannot be deployed (its image build failed), as opposed to being held back.
 * `waiting`: held until something happens that will make it deployable: its image is built, or a
 * maintainer approves a fork's commit.
 */
export type Gate =
  | { deploy: true }
  | { deploy: false; reason: string; failed?: boolean; waiting?: 'image' | 'approval' };

/**
 * Whether an open pull request may have an environment. `config` is the file at the head commit; `policy`
 * is the one whose fork, draft and skip rules apply: the base commit's for forks, so that a fork cannot
 * grant itself a deploy.
 */
export function gate(
  pr: PullRequestFacts,
  config: LoadedConfig,
  policy: LoadedConfig = config,
  approval?: Environment['forkApproval'],
  builds?: Environment['builds'],
): Gate {
  if (policy.status === 'missing') return { deploy: false, reason: `no ${CONFIG_FILE} in the repository` };
  if (policy.status === 'invalid') return { deploy: false, reason: invalid(policy.problems) };
  const rules = policy.value;
  const skip = rules.skip.find((glob) => matchesGlob(pr.branch, glob));
  if (skip) return { deploy: false, reason: `branch ${pr.branch} matches skip pattern ${skip}` };
  if (pr.draft && !rules.drafts)
    return { deploy: false, reason: 'draft pull request: deploys once ready for review' };
  if (pr.fork) {
    const { label } = rules.forks;
    if (rules.forks.policy === 'never')
      return { deploy: false, reason: 'pull requests from forks are not deployed' };
    if (!pr.labels.includes(label)) {
      return {
        deploy: false,
        reason: `pull request from a fork: deploys once a maintainer adds the label ${label}`,
      };
    }
    if (!approval?.allowed) {
      const who = approval ? `@${approval.user}, who has no write access` : 'someone Matinee cannot check';
      return { deploy: false, reason: `the label ${label} was added by ${who}: a maintainer must add it` };
    }
    // An approval is for one commit: a fork's later push runs code nobody with write access has looked at.
    if (approval.sha !== config.sha) {
      const approved = approval.sha ? ` (@${approval.user} approved ${approval.sha.slice(0, 7)})` : '';
      return {
        deploy: false,
        waiting: 'approval',
        reason:
          `commit ${config.sha.slice(0, 7)} from the fork is waiting for a maintainer's approval${approved}: ` +
          `after reviewing it, comment /matinee redeploy, or remove the label ${label} and add it again`,
      };
    }
  }
  if (config.status === 'missing')
    return { deploy: false, reason: `no ${CONFIG_FILE} at ${config.sha.slice(0, 7)}` };
  if (config.status === 'invalid') return { deploy: false, reason: invalid(config.problems) };
  const { workflow } = config.value;
  const build = workflow ? builds?.[buildKey(config.sha, workflow)] : undefined;
  if (workflow && build?.conclusion !== 'success') {
    return build
      ? {
          deploy: false,
          failed: true,
          reason: `workflow ${workflow} ${build.conclusion}${build.url ? `: ${build.url}` : ''}`,
        }
      : {
          deploy: false,
          waiting: 'image',
          reason: `waiting for workflow ${workflow} to build ${config.sha.slice(0, 7)}`,
        };
  }
  return { deploy: true };
}

/**
 * What holds the environment back, when it is a maintainer's approval of a fork's commit (not a build, which
 * will come by itself): the gate's reason, which says how to approve. Undefined otherwise.
 */
export function awaitingApproval(env: Environment): string | undefined {
  if (!env.pr.fork || !env.config || env.observed.phase !== 'pending') return undefined;
  const verdict = gate(env.pr, env.config, env.policy ?? env.config, env.forkApproval, env.builds);
  return !verdict.deploy && verdict.waiting === 'approval' ? verdict.reason : undefined;
}
