import { configDigest, nearestName, parseConfig, parseDuration } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';

function valid(text: string) {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result;
}

describe('.matinee.yml', () => {
  it('fills documented defaults for a minimal file', () => {
    const { value } = valid('app: { image: "ghcr.io/acme/web:{sha}", port: 8080 }');
    expect(value).toMatchObject({
      app: { port: 8080, health: '/', env: {} },
      sidecars: {},
      size: { cpu: 256, memory: 512 },
      idle: 3600,
      drafts: false,
      forks: { policy: 'label', label: 'matinee:deploy' },
      spot: true,
      skip: [],
    });
  });

  it('reads sidecars, size, idle and environment variables', () => {
    const { value } = valid(WEB_CONFIG);
    expect(value.idle).toBe(1800);
    expect(value.size).toEqual({ cpu: 512, memory: 1024 });
    expect(value.sidecars.db?.image).toBe('postgres:16');
    expect(value.env.PUBLIC_URL).toBe('{url}');
  });

  it('runs a string command through the shell and keeps a list as the exec form', () => {
    const { value } = valid('app: { image: x, port: 1, command: "npm start" }\nseed: [npm, run, seed]');
    expect(value.app.command).toEqual(['sh', '-c', 'npm start']);
    expect(value.seed).toEqual(['npm', 'run', 'seed']);
  });

  it('lists every problem with its path', () => {
    const result = parseConfig(`
app:
  image: ""
  port: 70000
  healthcheck: /health
size: { cpu: 256, memory: 4096 }
idle: soon
forks: { policy: always }
`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^app\.image: /),
        expect.stringMatching(/^app\.port: /),
        '`healthcheck` is not a key of app (did you mean `health`?)',
        expect.stringMatching(/^size\.memory: 4096 MiB is not a valid Fargate memory size for cpu 256/),
        expect.stringMatching(/^idle: not a duration/),
        expect.stringMatching(/^forks\.policy: /),
      ]),
    );
    expect(result.problems).toHaveLength(6);
  });

  it('names each unknown key on its own line, where it is, and what was meant when that is obvious', () => {
    const result = parseConfig(`
app: { image: x, port: 3000, imgae: y }
sidecars: { db: { image: postgres, environment: {} } }
size: { cpu: 256, memroy: 512 }
colour: blue
`);

    expect(result).toEqual({
      ok: false,
      problems: [
        '`imgae` is not a key of app (did you mean `image`?)',
        '`environment` is not a key of sidecars.db (did you mean `env`?)',
        '`memroy` is not a key of size (did you mean `memory`?)',
        '`colour` is not a key of .matinee.yml',
      ],
    });
  });

  it('reports a missing app at the top level', () => {
    const result = parseConfig('idle: 20m');
    expect(result).toEqual({ ok: false, problems: [expect.stringMatching(/^app: /)] });
  });

  it('reports YAML syntax errors with their line', () => {
    const result = parseConfig('app:\n  image: [unclosed\n  port: 3000\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('rejects duplicate keys instead of silently taking the last', () => {
    expect(parseConfig('app: { image: a, port: 1 }\napp: { image: b, port: 2 }').ok).toBe(false);
  });

  it('treats an empty file as a file without an app', () => {
    expect(parseConfig('').ok).toBe(false);
  });

  it('gives equal digests to the same meaning written differently, and different digests otherwise', () => {
    const a = valid('app: { image: x, port: 1 }\nidle: 1h');
    const b = valid('idle: 60m\napp:\n  port: 1\n  image: x\n');
    const c = valid('app: { image: x, port: 2 }');
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
    expect(configDigest(a.value)).toBe(a.digest);
  });
});

describe('stage defaults', () => {
  const defaults = { size: { cpu: 1024, memory: 2048 }, idle: 900 };

  it('fill the size and idle timeout a file leaves out', () => {
    const parsed = parseConfig('app: { image: x, port: 3000 }', defaults);

    expect(parsed.ok && parsed.value.size).toEqual({ cpu: 1024, memory: 2048 });
    expect(parsed.ok && parsed.value.idle).toBe(900);
  });

  it('never override what the file says', () => {
    const parsed = parseConfig(
      'app: { image: x, port: 3000 }\nsize: { cpu: 256, memory: 512 }\nidle: 20m',
      defaults,
    );

    expect(parsed.ok && parsed.value.size).toEqual({ cpu: 256, memory: 512 });
    expect(parsed.ok && parsed.value.idle).toBe(1200);
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['20m', 1200],
    ['1h30m', 5400],
    ['2d', 172_800],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '10', 'm', '1.5h', '-5m', '1 h'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('the name that was meant', () => {
  it.each([
    ['healthcheck', 'health'],
    ['imgae', 'image'],
    ['PROT', 'PORT'],
    ['CONFIG_FILE', 'CONFIG'],
    ['DATADIR', 'DATA_DIR'],
  ])('takes %s for %s', (typed, meant) => {
    expect(nearestName(typed, ['health', 'image', 'PORT', 'CONFIG', 'DATA_DIR', 'DATA'])).toBe(meant);
  });

  it.each([
    ['cmd', ['command', 'cwd']],
    ['colour', ['app', 'size', 'idle']],
    ['DATA', ['DATA_DIR', 'DATA_SET']],
  ])('guesses nothing for %s when nothing is obvious', (typed, known) => {
    expect(nearestName(typed, known)).toBeUndefined();
  });
});
