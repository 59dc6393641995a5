import type { LoadedConfig } from '../config/config.ts';
import { CONFIG_FILE } from '../config/file-name.ts';
import { DEFAULT_FORK_LABEL } from '../config/fork-label.ts';
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
 * maintainer approves a fork's commit. `approve`: the fork's commit a maintainer's approval would deploy,
 * when that is what holds it back.
 */
export type Gate =
  | { deploy: true }
  | { deploy: false; reason: string; failed?: boolean; waiting?: 'image' | 'approval'; approve?: string };

/** The label that approves a fork's commits under `policy` (the base commit's file). */
export function forkLabel(policy: LoadedConfig | undefined): string {
  return policy?.status === 'ok' ? policy.value.forks.label : DEFAULT_FORK_LABEL;
}

/**
 * Whether a fork's approval still counts. The label's, and a redeploy's, last only while the label is on;
 * a `/matinee approve` stands by itself. Removing the label withdraws them all (see `onPullRequest`).
 */
export function approvalStands(approval: Environment['forkApproval'], labelled: boolean): boolean {
  return approval !== undefined && (labelled || approval.via === 'approve');
}

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
    const labelled = pr.labels.includes(label);
    const head = config.sha;
    const short = head.slice(0, 7);
    const how = `after reviewing it, comment /matinee approve ${short}`;
    const standing = approvalStands(approval, labelled) ? approval : undefined;
    if (!standing?.allowed) {
      const by = standing ? `@${standing.user}, who has no write access` : 'someone Matinee cannot check';
      return {
        deploy: false,
        approve: head,
        reason: labelled
          ? `the label ${label} was added by ${by}, so it approves nothing: commit ${short} from the fork ` +
            `waits for a maintainer's approval: ${how}`
          : `pull request from a fork: commit ${short} waits for a maintainer's approval: ${how} ` +
            `(adding the label ${label} approves whatever the head commit is at that moment)`,
      };
    }
    // An approval is for one commit: a fork's later push runs code nobody with write access has looked at.
    if (standing.sha !== head) {
      const approved = standing.sha ? ` (@${standing.user} approved ${standing.sha.slice(0, 7)})` : '';
      return {
        deploy: false,
        waiting: 'approval',
        approve: head,
        reason: `commit ${short} from the fork is waiting for a maintainer's approval${approved}: ${how}`,
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

/**
 * The commit of a fork's open pull request that waits for a maintainer's approval (whether an approved
 * one still serves or nothing does), as the gate last saw the environment. Undefined otherwise.
 */
export function commitAwaitingApproval(env: Environment): string | undefined {
  if (!env.pr.fork || !env.pr.open || env.desired.phase === 'deleted' || !env.config) return undefined;
  if (env.config.sha !== env.desired.sha) return undefined;
  const verdict = gate(env.pr, env.config, env.policy ?? env.config, env.forkApproval, env.builds);
  return verdict.deploy ? undefined : verdict.approve;
}
