import { UserError } from '@matinee/core';
import { ConsoleLogger } from './console-logger.ts';
import { watchLaunchers } from './launcher-watch.ts';
import { localConfigProblems } from './local-config-check.ts';
import { LocalSettingsError, readLocalSettings } from './local-settings.ts';
import { unknownVariableWarnings } from './local-variables.ts';
import { webhookSecretPath } from './webhook-secret.ts';

// `npm start`: Matinee on this machine until Ctrl-C.
const log = new ConsoleLogger();
// The SDK only talks to the embedded database here; its advice about Node versions is for deployments.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
try {
  for (const warning of unknownVariableWarnings(process.env)) log.warn(warning);
  const settings = readLocalSettings(process.env, process.cwd());
  log.level = settings.logLevel;
  // Checked before serving: a config the core would refuse fails here, once, rather than on every preview.
  const problems = await localConfigProblems(settings.configPath, process.cwd());
  if (problems.length) {
    process.stderr.write(`${problems.join('\n')}\n`);
    process.exit(1);
  }
  // Loaded once the checks pass, so a refused start answers at once, before the SDK and the rest load.
  const { startLocal } = await import('./start.ts');
  const matinee = await startLocal(settings, log);
  process.stdout.write(
    [
      '',
      `  Matinee is running (local mode): ${matinee.url}`,
      '',
      `  config      ${settings.configPath}`,
      `  data        ${settings.dataDir}`,
      `  webhooks    POST ${matinee.url}/webhooks/github, signed with ${settings.webhookSecret ? 'MATINEE_WEBHOOK_SECRET' : webhookSecretPath(settings.dataDir)}`,
      `  idle        ${settings.idle ?? 'from the config'}, swept every ${settings.sweepEverySeconds}s`,
      `  previews    local.command as processes${matinee.docker ? '; images as Docker containers when a config has none' : ' (no Docker engine answered)'}`,
      '',
      '  Try it:     npm run matinee -- open acme/shop 42 fix-login',
      '              npm run matinee -- ls',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping every preview and Matinee`);
    try {
      await matinee.stop();
    } catch (error) {
      log.error('stopping failed', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      process.exit(0);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  // npm killed (SIGKILL, or SIGHUP, which npm does not pass on) must not leave Matinee running unwatched.
  watchLaunchers((pid) => void stop(`what started Matinee (pid ${pid}) is gone`));
  // Its terminal may be gone too: a failed write must not end Matinee before it has stopped its previews.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  // However Matinee ends (a crash included), its previews end with it: the last word is synchronous.
  process.on('exit', () => matinee.cloud.killAllNow());
} catch (error) {
  // Settings, the config, a held data dir, a busy port: a message for the person, not a stack trace.
  const known = error instanceof LocalSettingsError || error instanceof UserError;
  process.stderr.write(`${known ? (error as Error).message : String(error)}\n`);
  process.exit(1);
}
