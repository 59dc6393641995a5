import { ruleAccessOf } from '../access/environment-access.ts';
import { overridesProblem } from '../config/variables.ts';
import { currentFailure, type Environment } from '../environment/environment.ts';
import { gate } from '../environment/policy.ts';
import { taskSpec } from '../environment/task-spec.ts';
import { publicUrl, type Settings } from '../ports.ts';
import { seedDue, seedingSpec } from '../volumes/seed-once.ts';
import { attachVolumes } from '../volumes/task-volumes.ts';
import type { BuildVerdict } from './build.ts';
import type { Observed, Target } from './plan.ts';

export interface Decision {
  target: Target;
  /** Not deployed by policy, and why. */
  skipped?: string;
  /** Held until the image exists, and why. */
  waiting?: string;
  /** The desired commit cannot run (its build failed, or its stored variables are refused). */
  failure?: string;
  /** The failure is the image build's: a successful re-run of the config's workflow clears it. */
  buildFailed?: boolean;
  /** Held while Matinee builds the commit's images (`build:`): the environment is `building`. */
  building?: boolean;
}

/**
 * What the cloud should hold for `env`, and why when that is not its app running. `build`: where the
 * images of `.matinee.yml` `build:` are (see advanceBuild); the gate's verdict comes first.
 */
export function decide(
  env: Environment,
  settings: Settings,
  observed: Observed,
  build: BuildVerdict = { kind: 'none' },
): Decision {
  if (env.desired.phase === 'deleted') return { target: { phase: 'absent' } };
  const config = env.config;
  if (!config) throw new Error('config must be loaded before deciding');
  const verdict = gate(env.pr, config, env.policy ?? config, env.forkApproval, env.builds);
  if (!verdict.deploy && verdict.failed)
    return { target: { phase: 'sleeping' }, failure: verdict.reason, buildFailed: true };
  if (!verdict.deploy && verdict.waiting) {
    return {
      target: env.desired.phase === 'running' ? { phase: 'hold' } : { phase: 'sleeping' },
      waiting: verdict.reason,
    };
  }
  if (!verdict.deploy || config.status !== 'ok') {
    return { target: { phase: 'absent' }, skipped: verdict.deploy ? 'config not loaded' : verdict.reason };
  }
  // A commit that failed stays down (scaled to zero, no rule) until a push or a retry.
  if (env.desired.phase === 'sleeping' || currentFailure(env)) return { target: { phase: 'sleeping' } };
  if (build.kind === 'failed') return { target: { phase: 'sleeping' }, failure: build.reason };
  // As for a workflow's image: what serves keeps serving until the new commit's images exist.
  if (build.kind === 'waiting') return { target: { phase: 'hold' }, waiting: build.reason, building: true };
  // `/matinee env` variables come back from the store: checked again before any task is made from them.
  const unsafe = overridesProblem(env.overrides);
  if (unsafe) return { target: { phase: 'sleeping' }, failure: unsafe };
  const url = publicUrl(settings, env.host);
  const spec = (seed: boolean) =>
    attachVolumes(
      taskSpec(
        env,
        env.desired.sha,
        config.value,
        config.digest,
        url,
        seed,
        build.kind === 'built' ? build.images : {},
      ),
      observed.volumes ?? [],
    );
  return {
    target: {
      phase: 'running',
      spec: seedingSpec(spec, seedDue(env, config.value), observed.service),
      access: ruleAccessOf(env, settings),
    },
  };
}
