import { CliError, runCli } from './cli.ts';
import { LocalSettingsError, readLocalSettings } from './local-settings.ts';
import { readWebhookSecret } from './webhook-secret.ts';

// `npm run matinee -- <command>`: talks to the Matinee that `npm start` runs, as GitHub would.
try {
  const settings = readLocalSettings(process.env, process.cwd());
  const secret = settings.webhookSecret ?? readWebhookSecret(settings.dataDir);
  if (!secret)
    throw new CliError(
      `no webhook secret in ${settings.dataDir}: start Matinee first (npm start), with the same MATINEE_DATA_DIR`,
    );
  await runCli(process.argv.slice(2), {
    baseUrl: `http://127.0.0.1:${settings.port}`,
    secret,
    print: (line) => process.stdout.write(`${line}\n`),
  });
} catch (error) {
  const known = error instanceof CliError || error instanceof LocalSettingsError;
  process.stderr.write(`${known ? (error as Error).message : String(error)}\n`);
  process.exit(1);
}
