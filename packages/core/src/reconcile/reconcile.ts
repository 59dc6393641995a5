import { newAccessSecret } from '../access/secret.ts';
import { currentFailure, type Environment, type EnvironmentId } from '../environment/environment.ts';
import { ConflictError, TransientError, UserError } from '../errors.ts';
import { publicUrl } from '../ports.ts';
import { makeRoom } from '../use-cases/make-room.ts';
import { resetPending, resetSteps } from '../volumes/reset.ts';
import { advanceBuild } from './build.ts';
import { decide } from './decide.ts';
import type { ReconcileDeps } from './deps.ts';
import { environmentRef } from './environment-ref.ts';
import { lifecycleEvent } from './events.ts';
import { execute } from './execute.ts';
import { readConfigAt, withConfig } from './load-config.ts';
import { observe, observedResources } from './observe.ts';
import { recordFailure, recordOutcome } from './outcome.ts';
import { plan } from './plan.ts';

const MAX_ATTEMPTS = 5;

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
  const { target, failure } = decision;
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
    const saved = await deps.store.save(recordFailure(env, resources, message, userFacing, now));
    logEvent(deps, read, saved);
    if (userFacing) return saved;
    throw error;
  }

  const next = recordOutcome(env, {
    decision,
    observed,
    steps,
    resources,
    evicted: evicted.length,
    capacity: deps.capacity,
    resetting,
    now,
  });
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
