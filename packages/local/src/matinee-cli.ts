import { runCommand } from './cli.ts';
import { CLI_USAGE, CliError, EXIT, parseCommandLine } from './cli-arguments.ts';
import { LocalSettingsError, readLocalSettings } from './local-settings.ts';
import { unknownVariableWarnings } from './local-variables.ts';
import { readWebhookSecret } from './webhook-secret.ts';

// `npm run matinee -- <command>`: talks to the Matinee that `npm start` runs, as GitHub would.
// Exit statuses: see EXIT (0 done, 1 refused or failed, 2 usage, 3 no Matinee at MATINEE_PORT).
try {
  const command = parseCommandLine(process.argv.slice(2));
  if (command.command === 'help') {
    process.stdout.write(`${CLI_USAGE}\n`);
  } else {
    for (const warning of unknownVariableWarnings(process.env)) process.stderr.write(`${warning}\n`);
    const settings = readLocalSettings(process.env, process.cwd());
    // Every command but ls and logs signs a webhook, with the secret `npm start` keeps in the data dir unless set.
    const secret = settings.webhookSecret ?? readWebhookSecret(settings.dataDir);
    if (!secret && command.command !== 'ls' && command.command !== 'logs')
      throw new CliError(
        `no webhook secret in ${settings.dataDir}: start Matinee first (npm start), with the same MATINEE_DATA_DIR`,
        EXIT.unreachable,
      );
    await runCommand(command, {
      baseUrl: `http://127.0.0.1:${settings.port}`,
      secret,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  }
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  if (error instanceof LocalSettingsError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT.usage);
  }
  process.stderr.write(`${String(error)}\n`);
  process.exit(EXIT.failed);
}
