import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WAKE_LIMITS, parseConfig } from '@matinee/core';
import { LocalSourceControl, readLocalSettings } from '@matinee/local';
import { describe, expect, it } from 'vitest';
import { InMemoryStore, MemoryLogger } from '../support/fakes.ts';

describe('npm start settings', () => {
  it('has defaults that run the example app on port 8080', () => {
    const settings = readLocalSettings({}, '/repo');

    expect(settings).toMatchObject({
      port: 8080,
      configPath: '/repo/examples/hello/.matinee.yml',
      sweepEverySeconds: 60,
      dataDir: '/repo/.matinee',
    });
    expect(settings.idle).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    expect(() =>
      readLocalSettings({ MATINEE_PORT: 'eighty', MATINEE_IDLE: 'soon', MATINEE_SWEEP_EVERY: '5' }, '/repo'),
    ).toThrow(/MATINEE_PORT=eighty[\s\S]*MATINEE_IDLE=soon[\s\S]*MATINEE_SWEEP_EVERY=5/);
  });

  it('limits wakes as on AWS, with the same variables', () => {
    expect(readLocalSettings({}, '/repo').limits).toEqual(DEFAULT_WAKE_LIMITS);
    expect(readLocalSettings({ MATINEE_WAKES_PER_PREVIEW: '100/1m' }, '/repo').limits.perPreview).toEqual({
      count: 100,
      windowSeconds: 60,
    });
    expect(() => readLocalSettings({ MATINEE_WAKES_PER_CLIENT: 'lots' }, '/repo')).toThrow(
      /MATINEE_WAKES_PER_CLIENT=lots is not a count per duration/,
    );
  });

  it("gives preview apps what they need to run, and none of Matinee's secrets or credentials", () => {
    const settings = readLocalSettings(
      {
        PATH: '/usr/bin:/bin',
        HOME: '/home/dev',
        MATINEE_WEBHOOK_SECRET: 'hush',
        AWS_SECRET_ACCESS_KEY: 'also-hush',
        GITHUB_TOKEN: 'ghp_x',
      },
      '/repo',
    );

    expect(settings.appEnv).toEqual({ PATH: '/usr/bin:/bin', HOME: '/home/dev' });
  });
});

describe('the local source control', () => {
  const configFile = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'matinee-config-')), '.matinee.yml');
    writeFileSync(path, text);
    return path;
  };

  it('gives every repository the configured file, with MATINEE_IDLE replacing its idle timeout', async () => {
    const source = new LocalSourceControl({
      configPath: configFile('app: { image: x, port: 3000 }\nidle: 2h\n'),
      idle: '20s',
      store: new InMemoryStore(),
      log: new MemoryLogger(),
    });

    const parsed = parseConfig((await source.readConfig()) ?? '');

    expect(parsed.ok && parsed.value.idle).toBe(20);
  });

  it('reads a missing file as a repository without Matinee', async () => {
    const source = new LocalSourceControl({
      configPath: '/nonexistent/.matinee.yml',
      store: new InMemoryStore(),
      log: new MemoryLogger(),
    });

    expect(await source.readConfig()).toBeUndefined();
  });
});
