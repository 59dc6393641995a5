import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ConsoleLogger,
  type LocalMatinee,
  LocalSettingsError,
  readLocalSettings,
  readWebhookSecret,
  runCli,
  startLocal,
} from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';

/** `npm start`'s terminal, as a person reads it: a real Matinee logging through its console logger. */
const ROOT = resolve(import.meta.dirname, '../..');
const running: LocalMatinee[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const matinee of running.splice(0)) await matinee.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Matinee whose log lines (as the terminal would get them) are kept; `level` as MATINEE_LOG_LEVEL says. */
async function start(level?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'matinee-log-'));
  dirs.push(dataDir);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir };
  if (level) env.MATINEE_LOG_LEVEL = level;
  const settings = readLocalSettings(env, ROOT);
  const lines: string[] = [];
  const matinee = await startLocal(
    settings,
    new ConsoleLogger((line) => lines.push(line), settings.logLevel),
  );
  running.push(matinee);
  const cli = (...argv: string[]) =>
    runCli(argv, {
      baseUrl: `http://127.0.0.1:${matinee.port}`,
      secret: readWebhookSecret(dataDir) ?? '',
      print: () => {},
    });
  return { matinee, lines, cli };
}

const TIME = '\\d\\d:\\d\\d:\\d\\d';

describe('the terminal of npm start', { timeout: 60_000 }, () => {
  it('reads as events with durations: starting, ready in, removed; no AWS-shaped steps', async () => {
    const { lines, cli } = await start();

    await cli('open', 'acme/shop', '3', 'fix-login', 'f'.repeat(40));
    await until('ready', () => lines.some((line) => line.includes('ready in')), 30_000);
    await cli('close', 'acme/shop', '3');
    await until('removed', () => lines.some((line) => line.includes('removed')), 30_000);

    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${TIME} info {2}fix-login-pr3 starting \\(pull request opened\\)  id=acme/shop#3 sha=fffffff$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${TIME} info {2}fix-login-pr3 ready in \\d+(\\.\\d)? s  id=acme/shop#3 sha=fffffff url=http://fix-login-pr3\\.localhost:\\d+$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${TIME} info {2}fix-login-pr3 removed \\(pull request closed\\)  id=acme/shop#3 sha=fffffff$`,
        ),
      ),
    ]);
  });

  it('shows the steps behind them with MATINEE_LOG_LEVEL=debug', async () => {
    const { lines, cli } = await start('debug');

    await cli('open', 'acme/shop', '4', 'fix-login', 'e'.repeat(40));
    await until('ready', () => lines.some((line) => line.includes('ready in')), 30_000);

    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${TIME} debug reconcile step  id=acme/shop#4 step=ensureService$`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(/ info {2}fix-login-pr4 ready in /));
  });

  it('refuses a MATINEE_LOG_LEVEL it does not know, naming the levels', () => {
    expect(() => readLocalSettings({ MATINEE_LOG_LEVEL: 'verbose' }, ROOT)).toThrow(LocalSettingsError);
    expect(() => readLocalSettings({ MATINEE_LOG_LEVEL: 'verbose' }, ROOT)).toThrow(
      'MATINEE_LOG_LEVEL=verbose is not one of debug, info, warn, error',
    );
  });
});
