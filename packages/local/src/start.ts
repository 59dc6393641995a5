import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  type EnvironmentId,
  type Logger,
  MemoryRateLimiter,
  obeyPendingCommands,
  onServiceSteady,
  onTaskEvent,
  type PreviewSignIn,
  publishFeedback,
  reconcile,
  resync,
  type Settings,
  type SignInDeps,
  stateKey,
  sweep,
  UserError,
} from '@matinee/core';
import { createWebhookReceiver, GithubOAuth } from '@matinee/github';
import { ConsoleLogger } from './console-logger.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { dockerAvailable } from './docker-runtime.ts';
import { startEmbeddedDynamo } from './embedded-dynamo.ts';
import { FileLogs } from './file-logs.ts';
import { InProcessBus } from './in-process-bus.ts';
import { LocalImageBuilder } from './local-image-builder.ts';
import type { LocalSettings } from './local-settings.ts';
import { LocalSourceControl } from './local-source-control.ts';
import { LocalVolumes } from './local-volumes.ts';
import { PREVIEWS_FILE, stopLeftovers, writePreviewRecord } from './preview-registry.ts';
import { ProcessCloud } from './process-cloud.ts';
import { createRouter } from './router.ts';
import { startWatchdog } from './watchdog.ts';
import { ensureWebhookSecret } from './webhook-secret.ts';

export interface LocalMatinee {
  /** The dashboard, e.g. http://localhost:8080 */
  url: string;
  port: number;
  settings: Settings;
  store: Awaited<ReturnType<typeof startEmbeddedDynamo>>['store'];
  /** The embedded database's Unix socket (it listens on no TCP port). */
  dynamoSocket: string;
  source: LocalSourceControl;
  cloud: ProcessCloud;
  /** A Docker engine answered: configs without `local.command` run their images. */
  docker: boolean;
  /** Runs one sweep now, as the timer would. */
  sweepNow(): ReturnType<typeof sweep>;
  /** Resolves once no reconcile is running or asked for. */
  settled(): Promise<void>;
  /** Stops every app process, the server and the database; nothing is left running. */
  stop(): Promise<void>;
}

/**
 * Matinee on one machine: the same core, store adapter, webhook receiver and waking page as on AWS, with
 * local processes for Fargate, one HTTP server for the ALB, an in-process queue for EventBridge and timers
 * for the schedules.
 */
export async function startLocal(
  local: LocalSettings,
  log: Logger = new ConsoleLogger(),
): Promise<LocalMatinee> {
  // One Matinee per data dir: a second one fails here, before it touches the database or any process.
  const lock = lockDataDir(local.dataDir, (previous) =>
    log.warn(
      `taking over ${local.dataDir} from a Matinee that did not stop (pid ${previous?.pid ?? 'unknown'})`,
    ),
  );
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  try {
    // A Matinee killed outright (and its watchdog with it) left its previews running: stopped before any
    // starts again, so each awake preview runs once.
    const leftovers = await stopLeftovers(local.dataDir, { env: local.appEnv });
    if (leftovers.stopped.length)
      log.warn(
        `stopped what a Matinee that did not stop (pid ${leftovers.matinee?.pid ?? 'unknown'}) left running: ${leftovers.stopped
          .map((p) => `${p.service} (pid ${p.group.pid}, port ${p.port})`)
          .join(', ')}`,
      );
    dynamo = await startEmbeddedDynamo(join(local.dataDir, 'db'));
  } catch (error) {
    lock.release();
    throw error;
  }
  const watchdog = startWatchdog(local.appEnv);
  const settings: Settings = {
    stage: 'local',
    domain: 'localhost',
    scheme: 'http',
    port: local.port,
    access: local.access,
  };
  const store = dynamo.store;
  // `github` mode: the same sign-in as the wake function's, against GitHub or MATINEE_GITHUB_OAUTH_URL's double.
  const previewSignIn: PreviewSignIn | undefined = local.github && {
    key: stateKey(local.github.clientSecret),
    codes: dynamo.signInCodes,
  };
  const source = new LocalSourceControl({ configPath: local.configPath, idle: local.idle, store, log });
  const clock = { now: () => new Date() };
  const docker = await dockerAvailable(local.appEnv);
  const logDir = join(local.dataDir, 'logs');
  const logs = new FileLogs(logDir);
  const cloud = new ProcessCloud({
    docker,
    logDir,
    defaultCwd: dirname(local.configPath),
    baseEnv: local.appEnv,
    onPreviewsChanged: (previews) => {
      writePreviewRecord(local.dataDir, previews);
      watchdog.update(previews);
    },
    onTaskEvent: (event) => {
      // Locally a task is RUNNING once it passes its health check: the service is steady, as ECS would say.
      const handled =
        event.lastStatus === 'RUNNING' ? onServiceSteady(deps, event.service) : onTaskEvent(deps, event);
      handled.catch((error) =>
        log.error('task event failed', { service: event.service, error: String(error) }),
      );
    },
  });
  const volumes = new LocalVolumes(join(local.dataDir, 'volumes'));
  // `build:` images, built by the local Docker engine from the config's directory (the repository here).
  const builder = new LocalImageBuilder({
    docker,
    sourceDir: dirname(local.configPath),
    logDir,
    env: local.appEnv,
    onFinished: (id) => {
      bus
        .requestReconcile([id], 'image build finished')
        .catch((error) => log.error('reconcile after a build failed', { id, error: String(error) }));
    },
  });
  // What the reconcile function does on AWS.
  const bus = new InProcessBus(async (id: EnvironmentId) => {
    const env = await reconcile(deps, id);
    if (env?.pendingCommands) await obeyPendingCommands(deps, env);
    await publishFeedback(deps, id);
  }, log);
  const deps = {
    store,
    source,
    clock,
    log,
    settings,
    bus,
    runtime: cloud,
    router: cloud,
    activity: cloud,
    volumes,
    builder,
    // Locally `local.command` runs the app, so a config that has one needs no image built.
    localCommandFirst: true,
    inventory: {
      listOwned: async () => [...(await cloud.listOwned()), ...(await volumes.listOwned())],
    },
    logs,
    limiter: new MemoryRateLimiter(clock),
    limits: local.limits,
    signIn: previewSignIn,
  };
  const receive = createWebhookReceiver(local.webhookSecret ?? ensureWebhookSecret(local.dataDir));

  const signIn: SignInDeps | undefined = previewSignIn &&
    local.github && {
      ...previewSignIn,
      store,
      settings,
      clock,
      log,
      github: new GithubOAuth(local.github),
    };
  const server = createRouter({
    cloud,
    wake: deps,
    dashboard: deps,
    signIn,
    webhook: async (headers, body) => {
      const response = await receive(deps, { headers, body });
      return {
        status: response.status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(response.body),
      };
    },
  });
  try {
    await new Promise<void>((ready, fail) => {
      server.once('error', fail);
      server.listen(local.port, '127.0.0.1', () => ready());
    });
  } catch (error) {
    watchdog.close();
    await dynamo.close();
    lock.release();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UserError(`port ${local.port} is in use: set MATINEE_PORT to another port`);
    throw error;
  }
  settings.port = (server.address() as AddressInfo).port;
  lock.setPort(settings.port);

  const every = (seconds: number, what: string, run: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        await run();
      } catch (error) {
        log.error(`${what} failed`, { error: error instanceof Error ? error.message : String(error) });
      } finally {
        running = false;
      }
    }, seconds * 1000);
    timer.unref();
    return timer;
  };
  const timers = [
    every(local.sweepEverySeconds, 'sweep', () => sweep(deps)),
    every(local.resyncEverySeconds, 'resync', () => resync(deps, { dryRun: false })),
  ];

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const timer of timers) clearInterval(timer);
      await bus.close();
      await cloud.shutdown();
      // Every preview has exited: nothing for the watchdog or the next start to stop.
      watchdog.close();
      rmSync(join(local.dataDir, PREVIEWS_FILE), { force: true });
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await dynamo.close();
      lock.release();
    })();
    return stopping;
  };

  try {
    // Processes do not outlive Matinee, so whatever the store says is awake is started again.
    const unfinished = (await store.listAll()).filter((env) => env.observed.phase !== 'deleted');
    await bus.requestReconcile(
      unfinished.map((env) => env.id),
      'Matinee started',
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `http://localhost:${settings.port}`,
    port: settings.port,
    settings,
    store,
    dynamoSocket: dynamo.socketPath,
    source,
    cloud,
    docker,
    sweepNow: () => sweep(deps),
    settled: () => bus.idle(),
    stop,
  };
}
