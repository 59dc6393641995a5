import {
  type EnvironmentId,
  type ImageBuilder,
  MemoryRateLimiter,
  reconcile,
  type Settings,
  type WakeLimits,
} from '@matinee/core';
import { WEB_CONFIG } from './configs.ts';
import { FakeCloud } from './fake-cloud.ts';
import { FakeVolumes } from './fake-volumes.ts';
import { FakeSourceControl, InMemoryStore, ManualClock, MemoryLogger, RecordingBus } from './fakes.ts';

export const SETTINGS: Settings = { stage: 'test', domain: 'preview.example.com' };

/** The whole core wired to in-memory ports; `acme/web` has WEB_CONFIG at every commit. */
export function harness(settings: Partial<Settings> = {}) {
  const store = new InMemoryStore();
  const cloud = new FakeCloud();
  const bus = new RecordingBus();
  const clock = new ManualClock();
  const source = new FakeSourceControl();
  const log = new MemoryLogger();
  const volumes = new FakeVolumes();
  source.setConfig('acme/web', WEB_CONFIG);
  const deps = {
    store,
    runtime: cloud,
    router: cloud,
    activity: cloud,
    inventory: cloud,
    volumes,
    bus,
    clock,
    source,
    log,
    settings: { ...SETTINGS, ...settings },
    /** Most environments awake at once, as the stage sets it; unlimited unless a test sets it. */
    capacity: undefined as number | undefined,
    limiter: new MemoryRateLimiter(clock),
    /** Builds `.matinee.yml` `build:` images; none unless a test sets one (see fake-builder.ts). */
    builder: undefined as ImageBuilder | undefined,
    /** The wake limits; the defaults unless a test sets them. */
    limits: undefined as Partial<WakeLimits> | undefined,
  };
  return {
    ...deps,
    cloud,
    deps,
    /** Runs reconcile for every request on the bus until it is empty, as the AWS bus would. */
    async drain(): Promise<void> {
      while (bus.requests.length) {
        const ids = new Set(bus.requests.splice(0).flatMap((r) => r.ids));
        for (const id of ids) await reconcile(deps, id);
      }
    },
    reconcile: (id: EnvironmentId) => reconcile(deps, id),
  };
}
