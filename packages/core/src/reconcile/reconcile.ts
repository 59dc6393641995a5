import { newAccessSecret } from '../access/secret.ts';
import type { LoadedConfig } from '../config/config.ts';
import { loadConfig } from '../config/parse-config.ts';
import {
  currentFailure,
  type Environment,
  type EnvironmentId,
  type ObservedPhase,
  type Resources,
} from '../environment/environment.ts';
import { resourceNames } from '../environment/naming.ts';
import { ConflictError, TransientError, UserError } from '../errors.ts';
import type {
  Bus,
  Clock,
  EnvironmentRef,
  EnvironmentStore,
  ImageBuilder,
  Logger,
  Router,
  Runtime,
  Settings,
  SourceControl,
  Volumes,
} from '../ports.ts';
import { publicUrl } from '../ports.ts';
import { makeRoom } from '../use-cases/make-room.ts';
import { afterReset, resetPending, resetSteps } from '../volumes/reset.ts';
import { afterServing } from '../volumes/seed-once.ts';
import { attachVolumes } from '../volumes/task-volumes.ts';
import { advanceBuild } from './build.ts';
import { decide } from './decide.ts';
import { lifecycleEvent } from './events.ts';
import { isServing, type Observed, plan, type Step, type Target } from './plan.ts';

export interface ReconcileDeps {
  store: EnvironmentStore;
  runtime: Runtime;
  router: Router;
  source: SourceControl;
  /** To ask for the reconcile of environments put to sleep to make room. */
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
  /** Most environments awake at once (see makeRoom); unlimited when unset. */
  capacity?: number;
  /** Where `.matinee.yml` volumes live; without it, a config with volumes fails to deploy. */
  volumes?: Volumes;
  /** Builds `.matinee.yml` `build:` images; without it, a config with `build:` fails to deploy. */
  builder?: ImageBuilder;
  /** Local mode: a config's `local.command` runs instead of its images, so they are not built. */
  localCommandFirst?: boolean;
}

import { WRITERS } from '../environment/permissions.ts';

export { WRITERS };

/** How long a deleted environment's record is kept so that its URL answers 410 Gone. */
export const TOMBSTONE_DAYS = 30;
const MAX_ATTEMPTS = 5;

export const TAG_STAGE = 'matinee:stage';
export const TAG_ENVIRONMENT = 'matinee:environment';
export const TAG_HOST = 'matinee:host';

export function environmentRef(
  settings: Settings,
  env: Pick<Environment, 'id' | 'slug' | 'host'> & { observed?: Pick<Environment['observed'], 'resources'> },
): EnvironmentRef {
  return {
    known: env.observed?.resources ?? {},
    id: env.id,
    host: env.host,
    names: resourceNames(settings.stage, env.id, env.slug),
    tags: { [TAG_STAGE]: settings.stage, [TAG_ENVIRONMENT]: env.id, [TAG_HOST]: env.host },
  };
}

/**
 * Makes the cloud match what is wanted for one environment, then records what it saw. The only code that
 * changes the cloud. Safe to run twice, concurrently, or after a crash at any point: it re-reads, describes
 * what exists, plans idempotent steps, and saves with a conditional write (losing a race means starting
 * over with the newer state).
 */
export async function reconcile(deps: ReconcileDeps, id: EnvironmentId): Promise<Environment | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const env = await deps.store.get(id);
    if (!env) return undefined;
    try {
      return await reconcileOnce(deps, env);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      deps.log.debug('environment changed while reconciling; starting over', { id, attempt });
    }
  }
  throw new ConflictError(`environment ${id} kept changing during ${MAX_ATTEMPTS} reconcile attempts`);
}

/** `.matinee.yml` at `sha`, read from the repository now and validated. */
async function readConfigAt(deps: ReconcileDeps, repo: string, sha: string): Promise<LoadedConfig> {
  return loadConfig(sha, await deps.source.readConfig(repo, sha), deps.settings.defaults);
}

/**
 * The environment with its config (and a fork's policy) loaded. `fresh`: the config was read from the
 * repository by this reconcile, not taken from the stored record.
 */
async function withConfig(
  deps: ReconcileDeps,
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

/** Removes every resource of `ref`, whether or not an environment record still exists for it. */
export async function teardown(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'log' | 'volumes' | 'builder'>,
  ref: EnvironmentRef,
): Promise<Step[]> {
  const observed = await observe(deps, ref);
  const steps = plan({ phase: 'absent' }, observed);
  await deps.builder?.removeImages?.(ref);
  // An orphan may be data alone (its volumes' handles gone, a directory left): removed all the same, as
  // removing what is absent is done.
  if (deps.volumes && !steps.some((step) => step.kind === 'removeVolumes'))
    steps.push({ kind: 'removeVolumes' });
  await execute(deps, ref, { phase: 'absent' }, observed, steps, observedResources(observed));
  return steps;
}

async function observe(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'volumes'>,
  ref: EnvironmentRef,
): Promise<Observed> {
  const [runtime, router, volumes] = await Promise.all([
    deps.runtime.describe(ref),
    deps.router.describe(ref),
    deps.volumes?.describe(ref),
  ]);
  return {
    service: runtime.service,
    revisions: runtime.revisions,
    targetGroupArn: router.targetGroupArn,
    ruleArn: router.ruleArn,
    warming: router.warming,
    health: router.health,
    ruleAccess: router.access,
    ...(volumes?.length ? { volumes } : {}),
    healthCheck: router.healthCheck,
  };
}

/** What `observe` found, as the environment records it. */
function observedResources(observed: Observed): Resources {
  return {
    taskDefinitionArn: observed.service?.taskDefinitionArn,
    serviceArn: observed.service?.serviceArn,
    targetGroupArn: observed.targetGroupArn,
    ruleArn: observed.ruleArn,
  };
}

/**
 * Runs the steps in order, carrying ARNs from one step to the next in `resources` (updated as each step
 * succeeds, so a failing step leaves in it what the earlier ones made); returns the resources that remain.
 */
async function execute(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'log' | 'volumes'>,
  ref: EnvironmentRef,
  target: Target,
  observed: Observed,
  steps: Step[],
  resources: Resources,
): Promise<Resources> {
  let spec = target.phase === 'running' ? target.spec : undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined && what === 'volumes') noVolumes();
    if (value === undefined) throw new Error(`reconcile step needs ${what}, which no earlier step provided`);
    return value;
  };
  for (const step of steps) {
    deps.log.debug('reconcile step', { id: ref.id, step: step.kind });
    switch (step.kind) {
      case 'ensureTargetGroup': {
        const { port, healthPath } = need(spec, 'a running target');
        resources.targetGroupArn = (
          await deps.router.ensureTargetGroup(ref, { port, healthPath })
        ).targetGroupArn;
        break;
      }
      case 'updateTargetGroup': {
        const { port, healthPath } = need(spec, 'a running target');
        await deps.router.updateTargetGroup(ref, need(resources.targetGroupArn, 'a target group'), {
          port,
          healthPath,
        });
        break;
      }
      case 'registerRevision':
        resources.taskDefinitionArn = (
          await deps.runtime.registerRevision(ref, need(spec, 'a running target'))
        ).taskDefinitionArn;
        break;
      case 'ensureService':
        resources.serviceArn = (
          await deps.runtime.ensureService(ref, {
            taskDefinitionArn: need(resources.taskDefinitionArn, 'a task definition'),
            targetGroupArn: need(resources.targetGroupArn, 'a target group'),
            desiredCount: step.desiredCount,
            spec: need(spec, 'a running target'),
          })
        ).serviceArn;
        break;
      case 'scaleService':
        await deps.runtime.scaleService(ref, step.desiredCount);
        break;
      case 'ensureRule':
        resources.ruleArn = (
          await deps.router.ensureRule(
            ref,
            need(resources.targetGroupArn, 'a target group'),
            target.phase === 'running' ? target.access : undefined,
          )
        ).ruleArn;
        break;
      case 'removeRule':
        await deps.router.removeRule(ref);
        resources.ruleArn = undefined;
        break;
      case 'deleteService':
        await deps.runtime.deleteService(ref);
        resources.serviceArn = undefined;
        break;
      case 'deleteTargetGroup':
        await deps.router.deleteTargetGroup(ref);
        resources.targetGroupArn = undefined;
        break;
      case 'deregisterRevisions':
        await deps.runtime.deregisterRevisions(ref);
        resources.taskDefinitionArn = undefined;
        break;
      case 'ensureVolumes': {
        const volumes = need(deps.volumes, 'volumes');
        const running = need(spec, 'a running target');
        spec = attachVolumes(running, await volumes.ensure(ref, running.volumes ?? []));
        break;
      }
      case 'emptyVolumes':
        await need(deps.volumes, 'volumes').empty(
          ref,
          (observed.volumes ?? []).map((volume) => volume.name),
        );
        break;
      case 'removeVolumes':
        await need(deps.volumes, 'volumes').remove(ref);
        break;
    }
  }
  return resources;
}

function noVolumes(): never {
  throw new UserError(
    '.matinee.yml declares `volumes`, which this Matinee deployment cannot provide yet: remove them, or upgrade Matinee',
  );
}

function phaseAfter(
  env: Environment,
  target: Target,
  observed: Observed,
  steps: Step[],
  skipped?: string,
): ObservedPhase {
  if (target.phase === 'absent') return skipped ? 'skipped' : 'deleted';
  if (currentFailure(env)) return 'failed';
  if (target.phase === 'hold') return 'pending';
  if (target.phase === 'sleeping') return 'sleeping';
  return isServing(target, observed, steps) ? 'ready' : 'starting';
}

async function reconcileOnce(deps: ReconcileDeps, read: Environment): Promise<Environment> {
  const now = deps.clock.now().toISOString();
  const withLoaded =
    read.desired.phase === 'deleted' ? { env: read, fresh: false } : await withConfig(deps, read);
  let loaded = withLoaded.env;
  // Records made before access control have no secret: the first reconcile gives them one.
  if (!loaded.accessSecret) loaded = { ...loaded, accessSecret: newAccessSecret() };
  const ref = environmentRef(deps.settings, loaded);
  const observed = await observe(deps, ref);
  const { build, verdict } = await advanceBuild(deps, loaded, ref);
  if (build !== loaded.build) loaded = { ...loaded, build };
  let decision = decide(loaded, deps.settings, observed, verdict);
  let steps = plan(decision.target, observed);
  // Nothing read back from the store is ever run: a task definition (what the runtime will execute: images,
  // commands, seed, local.command) is made only from the config read from the repository at the commit,
  // so a tampered record can at worst fail its environment. Once per new revision, not per reconcile.
  if (!withLoaded.fresh && steps.some((step) => step.kind === 'registerRevision')) {
    loaded = { ...loaded, config: await readConfigAt(deps, loaded.repo, loaded.desired.sha) };
    decision = decide(loaded, deps.settings, observed, verdict);
    steps = plan(decision.target, observed);
  }
  // `/matinee reset-data`: asleep and emptied first; the reconcile asked for afterwards starts it again.
  const resetting = resetPending(loaded);
  if (resetting) {
    decision = { ...decision, target: { phase: 'sleeping' } };
    steps = resetSteps(observed);
  }
  const { target, skipped, waiting, failure } = decision;
  // The gate fails a commit only for its image build; naming the workflow lets a successful re-run clear it.
  const workflow =
    decision.buildFailed && loaded.config?.status === 'ok' ? loaded.config.value.workflow : undefined;
  let env: Environment =
    failure && !currentFailure(loaded)
      ? {
          ...loaded,
          observed: {
            ...loaded.observed,
            failure: { sha: loaded.desired.sha, reason: failure, at: now, workflow },
          },
        }
      : loaded;
  // Attaching the target group is what takes a place on the load balancer: make room first.
  const attaches =
    !observed.ruleArn && !observed.warming && steps.some((s) => s.kind === 'ensureTargetGroup');
  const evicted = attaches ? await makeRoom(deps, env) : [];
  // A teardown is recorded before it starts: cut short half-way, the record says what is under way.
  if (env.desired.phase === 'deleted' && steps.length && env.observed.phase !== 'deleting')
    env = await deps.store.save({
      ...env,
      observed: { ...env.observed, phase: 'deleting', since: now },
      updatedAt: now,
    });

  let resources = observedResources(observed);
  try {
    resources = await execute(deps, ref, target, observed, steps, resources);
    // A removed environment's built images go with it; asleep or failed, it keeps its commit's.
    if (env.desired.phase === 'deleted' && env.observed.phase !== 'deleted')
      await deps.builder?.removeImages?.(ref);
  } catch (error) {
    if (error instanceof TransientError || error instanceof ConflictError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    deps.log.error('reconcile step failed', { id: env.id, error: message });
    // A problem the PR author can fix stops here; anything else is recorded and retried by the bus.
    const userFacing = error instanceof UserError;
    const failed: Environment = {
      ...env,
      observed: {
        ...env.observed,
        // What the steps before the failing one made is recorded, never left behind unknown.
        resources,
        phase: userFacing ? 'failed' : env.observed.phase,
        failure: userFacing ? { sha: env.desired.sha, reason: message, at: now } : env.observed.failure,
        lastError: message,
        since: userFacing && env.observed.phase !== 'failed' ? now : env.observed.since,
      },
      updatedAt: now,
    };
    const saved = await deps.store.save(failed);
    logEvent(deps, read, saved);
    if (userFacing) return saved;
    throw error;
  }

  const phase =
    decision.building && target.phase === 'hold'
      ? 'building'
      : phaseAfter(env, target, observed, steps, skipped);
  const served = phase === 'ready' && target.phase === 'running';
  const wakes = env.wakes.map((wake, index) =>
    index === 0 && served && !wake.readyAt ? { ...wake, readyAt: now } : wake,
  );
  // The waking page's estimate until a wake has been timed: how long the first start took, from when it
  // began starting (not from the pull request's opening, which may have waited for a build).
  const firstStartedAt = env.observed.phase === 'starting' ? env.observed.since : env.desired.since;
  const firstStartSeconds =
    env.firstStartSeconds ??
    (served && env.observed.phase !== 'ready'
      ? Math.max(0, Math.round((Date.parse(now) - Date.parse(firstStartedAt)) / 1000))
      : undefined);
  const next: Environment = {
    ...env,
    desired: { ...env.desired, configDigest: env.config?.status === 'ok' ? env.config.digest : undefined },
    observed: {
      phase,
      sha: served ? target.spec.sha : env.observed.sha,
      configDigest: served && env.config?.status === 'ok' ? env.config.digest : env.observed.configDigest,
      resources,
      reason: skipped ?? waiting,
      failure: currentFailure(env),
      crashes: env.observed.crashes?.sha === env.desired.sha ? env.observed.crashes : undefined,
      // Said on the waking page while this start lasts. Anyone with this preview's link reads it, so it names
      // no other preview: which ones went to sleep is in the log and on their own pull requests.
      note: evicted.length
        ? `Matinee is at its limit of ${deps.capacity} awake previews, so another preview is put to sleep to make room.`
        : phase === 'starting'
          ? env.observed.note
          : undefined,
      since: phase === env.observed.phase ? env.observed.since : now,
    },
    wakes,
    ...(firstStartSeconds !== undefined && { firstStartSeconds }),
    volumes: resetting
      ? afterReset(env)
      : env.config?.status === 'ok'
        ? afterServing(env, env.config.value, served ? target.spec : undefined, now)
        : env.volumes,
    // A new commit ready (a push): the idle clock starts again, so a preview is not put to sleep just after it.
    servingSince: served && target.spec.sha !== env.observed.sha ? now : env.servingSince,
    expiresAt:
      phase === 'deleted' ? new Date(Date.parse(now) + TOMBSTONE_DAYS * 86_400_000).toISOString() : undefined,
  };
  if (JSON.stringify(next) === JSON.stringify(read)) return read;
  const saved = await deps.store.save({ ...next, updatedAt: now });
  logEvent(deps, read, saved);
  if (resetting && saved.desired.phase === 'running')
    await deps.bus.requestReconcile([saved.id], 'volumes emptied');
  return saved;
}

/** What a person reads of the change: `fix-login-pr42 ready in 1.4 s` (see events.ts). */
function logEvent(
  deps: Pick<ReconcileDeps, 'log' | 'settings'>,
  before: Environment,
  after: Environment,
): void {
  const event = lifecycleEvent(
    before,
    after,
    new Date(after.updatedAt),
    publicUrl(deps.settings, after.host),
  );
  if (event) deps.log[event.level](event.message, event.fields);
}
