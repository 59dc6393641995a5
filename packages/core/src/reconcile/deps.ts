import type {
  Bus,
  Clock,
  EnvironmentStore,
  ImageBuilder,
  Logger,
  Router,
  Runtime,
  Settings,
  SourceControl,
  Volumes,
} from '../ports.ts';

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
