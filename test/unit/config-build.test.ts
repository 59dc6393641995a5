import { parseConfig } from '@matinee/core';
import { describe, expect, it } from 'vitest';

function problemsOf(text: string): string[] {
  const result = parseConfig(text);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.problems;
}

function valid(text: string) {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.value;
}

describe('.matinee.yml build', () => {
  it('fills Dockerfile and . for a bare build, on the app and on a sidecar', () => {
    const value = valid(`
app: { build: {}, port: 3000 }
sidecars:
  worker: { build: { dockerfile: worker/Dockerfile, context: worker, target: prod } }
`);
    expect(value.app.build).toEqual({ dockerfile: 'Dockerfile', context: '.', args: {} });
    expect(value.app.image).toBeUndefined();
    expect(value.sidecars.worker?.build).toEqual({
      dockerfile: 'worker/Dockerfile',
      context: 'worker',
      target: 'prod',
      args: {},
    });
  });

  it('reads build args as text, with the placeholders known before the image exists', () => {
    const value = valid(`
app:
  port: 3000
  build:
    args: { GIT_SHA: "{sha}", PR: "{pr}", BRANCH: "{branch}", SHORT: "{short_sha}", WORKERS: 4, DEBUG: false }
`);
    expect(value.app.build?.args).toEqual({
      GIT_SHA: '{sha}',
      PR: '{pr}',
      BRANCH: '{branch}',
      SHORT: '{short_sha}',
      WORKERS: '4',
      DEBUG: 'false',
    });
  });

  it('refuses both image and build, and neither, naming the container', () => {
    const problems = problemsOf(`
app: { image: web, build: {}, port: 3000 }
sidecars:
  db: { env: { A: b } }
`);
    expect(problems).toEqual([
      expect.stringMatching(/^app: has both `image` and `build`/),
      expect.stringMatching(/^sidecars\.db: needs `image` .* or `build`/),
    ]);
  });

  it('refuses paths that leave the repository or are absolute, each problem where it is', () => {
    const problems = problemsOf(`
app:
  port: 3000
  build: { dockerfile: ../Dockerfile, context: /etc }
sidecars:
  a: { build: { context: "app/../../x" } }
  b: { build: { dockerfile: "C:/Dockerfile", context: "" } }
  c: { build: { dockerfile: "docker\\\\file", context: "~/src" } }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'app.build.dockerfile: must stay inside the repository: `..` is not allowed',
        'app.build.context: must be relative to the repository root, not an absolute path',
        'sidecars.a.build.context: must stay inside the repository: `..` is not allowed',
        'sidecars.b.build.dockerfile: must be relative to the repository root, not an absolute path',
        'sidecars.b.build.context: must not be empty',
        'sidecars.c.build.dockerfile: must use / between directories, not \\',
        'sidecars.c.build.context: must be relative to the repository root, not an absolute path',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('refuses secrets in build args, saying they are not accepted, without echoing the value', () => {
    const token = `ghp_${'a1B2'.repeat(9)}`;
    const problems = problemsOf(`
app:
  port: 3000
  build:
    args:
      NPM_TOKEN: x
      DB_PASSWORD: x
      STRIPE: sk_live_abcdefghijklmnop
      CLONE_URL: "https://user:hunter2@example.com/repo.git"
      GH: "${token}"
      FROM_CI: "\${{ secrets.DEPLOY_KEY }}"
      AWS: AKIAABCDEFGHIJKLMNOP
      AUTHOR: "Ada"
`);
    expect(problems).toHaveLength(7);
    for (const problem of problems) {
      expect(problem).toMatch(/^app\.build\.args\.[A-Z_]+: secrets are not accepted in build args/);
      expect(problem).not.toContain(token);
      expect(problem).not.toContain('hunter2');
      expect(problem).not.toContain('sk_live');
    }
    expect(problems.join('\n')).not.toContain('AUTHOR');
  });

  it('refuses placeholders not known at build time, bad names, a bad target and unknown keys', () => {
    const problems = problemsOf(`
app:
  port: 3000
  build:
    target: "prod stage"
    dockerfle: Dockerfile.dev
    args: { URL: "{url}", "1BAD": x }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^app\.build\.target: a Dockerfile stage name/),
        '`dockerfle` is not a key of app.build (did you mean `dockerfile`?)',
        expect.stringMatching(/^app\.build\.args\.URL: \{url\} is not known when the image is built/),
        expect.stringMatching(/^app\.build\.args\.1BAD: build arg names are/),
      ]),
    );
  });

  it('refuses a build whose args are too many or too long', () => {
    const many = Array.from({ length: 51 }, (_, i) => `A${i}: x`).join(', ');
    expect(problemsOf(`app: { port: 1, build: { args: { ${many} } } }`)).toEqual([
      'app.build.args: at most 50 build args',
    ]);
    expect(problemsOf(`app: { port: 1, build: { args: { A: "${'x'.repeat(1001)}" } } }`)).toEqual([
      'app.build.args.A: is longer than 1000 characters',
    ]);
  });
});
