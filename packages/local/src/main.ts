import { ConsoleLogger } from './console-logger.ts';
import { LocalSettingsError, readLocalSettings } from './local-settings.ts';
import { startLocal } from './start.ts';

// `npm start`: Matinee on this machine until Ctrl-C.
const log = new ConsoleLogger();
// The SDK only talks to the embedded database here; its advice about Node versions is for deployments.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
try {
  const settings = readLocalSettings(process.env, process.cwd());
  const matinee = await startLocal(settings, log);
  process.stdout.write(
    [
      '',
      `  Matinee is running (local mode): ${matinee.url}`,
      '',
      `  config      ${settings.configPath}`,
      `  data        ${settings.dataDir}`,
      `  webhooks    POST ${matinee.url}/webhooks/github`,
      `  idle        ${settings.idle ?? 'from the config'}, swept every ${settings.sweepEverySeconds}s`,
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
    await matinee.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  process.stderr.write(`${error instanceof LocalSettingsError ? error.message : String(error)}\n`);
  process.exit(1);
}
