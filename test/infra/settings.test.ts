import { DEFAULT_PRICES, DEFAULT_WAKE_LIMITS } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { isSchedule, readStageInput, StageInputError, VARIABLES } from '../../stacks/settings.ts';

/** stacks/settings.ts: what `sst deploy` reads from MATINEE_* variables, and how it says what is wrong. */
const problems = (env: Record<string, string>, stage = 'production'): string[] => {
  try {
    readStageInput(env, stage);
  } catch (error) {
    if (error instanceof StageInputError) return error.problems;
    throw error;
  }
  return [];
};

describe('readStageInput', () => {
  it('needs only the domain, and defaults the rest', () => {
    expect(readStageInput({ MATINEE_DOMAIN: 'Preview.Example.com.' }, 'production')).toEqual({
      stage: 'production',
      domain: 'preview.example.com',
      hostedZone: undefined,
      vpc: undefined,
      access: { mode: 'link', allowCidrs: undefined, internal: false },
      defaults: { cpu: 256, memory: 512, idleSeconds: 3600 },
      sweepSchedule: 'rate(5 minutes)',
      resyncSchedule: 'rate(1 hour)',
      maxAwake: 90,
      prices: DEFAULT_PRICES,
      githubApiUrl: undefined,
      limits: DEFAULT_WAKE_LIMITS,
      ecrRepositories: [],
      previewEgress: 'all',
      build: { computeType: 'BUILD_GENERAL1_SMALL' },
    });
  });

  it('takes a CodeBuild compute type for builds, or an error naming the variable and the choices', () => {
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(readStageInput({ ...domain, MATINEE_BUILD_COMPUTE: 'BUILD_GENERAL1_LARGE' }, 'p').build).toEqual({
      computeType: 'BUILD_GENERAL1_LARGE',
    });
    expect(() => readStageInput({ ...domain, MATINEE_BUILD_COMPUTE: 'BUILD_LAMBDA_1GB' }, 'p')).toThrow(
      /MATINEE_BUILD_COMPUTE must be one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, .*not "BUILD_LAMBDA_1GB"/,
    );
  });

  it('takes the wake limits as a count per duration, or an error naming the variable', () => {
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(
      readStageInput(
        {
          ...domain,
          MATINEE_WAKES_PER_CLIENT: '20/1h',
          MATINEE_WAKES_PER_PREVIEW: '3/5m',
          MATINEE_RETRIES_PER_PREVIEW: '1/30s',
        },
        'p',
      ).limits,
    ).toEqual({
      perClient: { count: 20, windowSeconds: 3600 },
      perPreview: { count: 3, windowSeconds: 300 },
      retriesPerPreview: { count: 1, windowSeconds: 30 },
    });
    expect(
      problems({ ...domain, MATINEE_WAKES_PER_CLIENT: 'ten', MATINEE_RETRIES_PER_PREVIEW: '0/1m' }),
    ).toEqual([
      expect.stringMatching(/^MATINEE_WAKES_PER_CLIENT must be a count per duration like 10\/10m/),
      expect.stringMatching(/^MATINEE_RETRIES_PER_PREVIEW must be/),
    ]);
  });

  it("takes the region's Fargate prices for the cost estimates, four positive amounts or an error naming them", () => {
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(
      readStageInput({ ...domain, MATINEE_FARGATE_PRICES: '0.0505, 0.0055,0.0152,0.00167' }, 'p').prices,
    ).toEqual({ vcpuHour: 0.0505, gbHour: 0.0055, spotVcpuHour: 0.0152, spotGbHour: 0.00167 });
    for (const bad of ['0.05,0.005', '0.05,0.005,0.01,-1', '5 cents,0.005,0.01,0.001', '0,0,0,0'])
      expect(problems({ ...domain, MATINEE_FARGATE_PRICES: bad }), bad).toEqual([
        expect.stringMatching(/^MATINEE_FARGATE_PRICES must be four positive/),
      ]);
  });

  it('names MATINEE_DOMAIN when it is missing or not a bare domain', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^MATINEE_DOMAIN is not set/)]);
    for (const bad of [
      'https://preview.example.com',
      '*.example.com',
      'localhost',
      'exa mple.com',
      'a-.example.com',
    ])
      expect(problems({ MATINEE_DOMAIN: bad }), bad).toEqual([
        expect.stringMatching(/^MATINEE_DOMAIN must be/),
      ]);
    expect(
      problems({
        MATINEE_DOMAIN: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`,
      }),
    ).toEqual([expect.stringMatching(/^MATINEE_DOMAIN must be/)]);
  });

  it('refuses a domain that leaves preview hosts no room under the ALB rule limit of 128 characters, saying so', () => {
    // <slug>.<domain> is at most 128 characters, and a slug needs 21 (pr<number>-<hash>).
    const longest = `${'a'.repeat(60)}.${'b'.repeat(41)}.com`;
    expect(longest).toHaveLength(106);
    expect(problems({ MATINEE_DOMAIN: longest })).toEqual([]);
    expect(problems({ MATINEE_DOMAIN: `a${longest}` })).toEqual([
      expect.stringMatching(
        /^MATINEE_DOMAIN is too long: .*at most 128 characters.*leaves 20 for the slug, which needs 21; use a domain of at most 106 characters/,
      ),
    ]);
  });

  it('tells every problem at once, each by its variable', () => {
    const found = problems({
      MATINEE_TASK_CPU: '300',
      MATINEE_MAX_AWAKE: '101',
      MATINEE_SWEEP_SCHEDULE: 'every 5 minutes',
      MATINEE_IDLE: 'soon',
    });
    expect(found).toHaveLength(5);
    for (const name of [
      'MATINEE_DOMAIN',
      'MATINEE_TASK_CPU',
      'MATINEE_MAX_AWAKE',
      'MATINEE_SWEEP_SCHEDULE',
      'MATINEE_IDLE',
    ])
      expect(
        found.some((problem) => problem.startsWith(name)),
        name,
      ).toBe(true);
    expect(() => readStageInput({}, 'production')).toThrow(
      /Matinee cannot deploy with these settings:\n {2}- MATINEE_DOMAIN/,
    );
  });

  it('takes a hosted zone by id or by a name that holds the domain', () => {
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(
      readStageInput({ ...domain, MATINEE_HOSTED_ZONE: 'Z0123456789ABCDEFGHIJ' }, 'p').hostedZone,
    ).toEqual({
      id: 'Z0123456789ABCDEFGHIJ',
    });
    expect(readStageInput({ ...domain, MATINEE_HOSTED_ZONE: '/hostedzone/Z01234' }, 'p').hostedZone).toEqual({
      id: 'Z01234',
    });
    expect(readStageInput({ ...domain, MATINEE_HOSTED_ZONE: 'example.com.' }, 'p').hostedZone).toEqual({
      name: 'example.com',
    });
    expect(readStageInput({ ...domain, MATINEE_HOSTED_ZONE: 'preview.example.com' }, 'p').hostedZone).toEqual(
      {
        name: 'preview.example.com',
      },
    );
    expect(problems({ ...domain, MATINEE_HOSTED_ZONE: 'other.com' })).toEqual([
      expect.stringMatching(/^MATINEE_HOSTED_ZONE other.com cannot hold MATINEE_DOMAIN/),
    ]);
    expect(problems({ ...domain, MATINEE_HOSTED_ZONE: 'ample.com' })).toHaveLength(1);
  });

  it('takes an existing VPC with at least two of its public subnets', () => {
    const base = { MATINEE_DOMAIN: 'preview.example.com', MATINEE_VPC_ID: 'vpc-0123456789abcdef0' };
    expect(
      readStageInput({ ...base, MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa, subnet-0bbbbbbbb' }, 'p').vpc,
    ).toEqual({ id: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0aaaaaaaa', 'subnet-0bbbbbbbb'] });
    expect(problems(base)).toEqual([expect.stringMatching(/^MATINEE_SUBNET_IDS must list at least two/)]);
    expect(problems({ ...base, MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa' })).toHaveLength(1);
    expect(problems({ ...base, MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa,sg-0bbbbbbbb' })).toEqual([
      expect.stringContaining('malformed subnet ids: sg-0bbbbbbbb'),
    ]);
    expect(
      problems({
        ...base,
        MATINEE_VPC_ID: 'my-vpc',
        MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa,subnet-0bbbbbbbb',
      }),
    ).toEqual([expect.stringMatching(/^MATINEE_VPC_ID must look like vpc-/)]);
    expect(
      problems({ MATINEE_DOMAIN: 'preview.example.com', MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa' }),
    ).toEqual([expect.stringMatching(/^MATINEE_SUBNET_IDS is set without MATINEE_VPC_ID/)]);
  });

  it("checks the default task size against Fargate's cpu/memory pairs", () => {
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(
      readStageInput({ ...domain, MATINEE_TASK_CPU: '1024', MATINEE_TASK_MEMORY: '4096' }, 'p').defaults,
    ).toMatchObject({
      cpu: 1024,
      memory: 4096,
    });
    expect(problems({ ...domain, MATINEE_TASK_CPU: '512' })).toEqual([
      expect.stringContaining(
        'MATINEE_TASK_MEMORY 512 MiB is not a valid Fargate memory size for MATINEE_TASK_CPU 512',
      ),
    ]);
    expect(problems({ ...domain, MATINEE_TASK_MEMORY: 'lots' })).toEqual([
      expect.stringMatching(/^MATINEE_TASK_MEMORY/),
    ]);
    expect(problems({ ...domain, MATINEE_TASK_CPU: '0.25' })).toEqual([
      expect.stringMatching(/^MATINEE_TASK_CPU/),
    ]);
  });

  it('reads the idle timeout, the schedules, the awake limit and the GitHub API', () => {
    const input = readStageInput(
      {
        MATINEE_DOMAIN: 'preview.example.com',
        MATINEE_IDLE: '1h30m',
        MATINEE_SWEEP_SCHEDULE: 'rate(1 minute)',
        MATINEE_RESYNC_SCHEDULE: 'cron(0 */2 * * ? *)',
        MATINEE_MAX_AWAKE: '99',
        MATINEE_GITHUB_API_URL: 'https://github.acme.dev/api/v3/',
      },
      'p',
    );
    expect(input).toMatchObject({
      defaults: { idleSeconds: 5400 },
      sweepSchedule: 'rate(1 minute)',
      resyncSchedule: 'cron(0 */2 * * ? *)',
      maxAwake: 99,
      githubApiUrl: 'https://github.acme.dev/api/v3',
    });
    const domain = { MATINEE_DOMAIN: 'preview.example.com' };
    expect(problems({ ...domain, MATINEE_IDLE: '30s' })).toEqual([expect.stringMatching(/^MATINEE_IDLE/)]);
    expect(problems({ ...domain, MATINEE_MAX_AWAKE: '0' })).toEqual([
      expect.stringMatching(/^MATINEE_MAX_AWAKE/),
    ]);
    // The wake function's target group is the ALB's 100th.
    expect(problems({ ...domain, MATINEE_MAX_AWAKE: '100' })).toEqual([
      expect.stringMatching(/^MATINEE_MAX_AWAKE .*1 to 99 .*wake function's own is one of them/),
    ]);
    expect(problems({ ...domain, MATINEE_RESYNC_SCHEDULE: 'hourly' })).toEqual([
      expect.stringMatching(/^MATINEE_RESYNC_SCHEDULE/),
    ]);
    expect(problems({ ...domain, MATINEE_GITHUB_API_URL: 'http://github.acme.dev' })).toEqual([
      expect.stringMatching(/^MATINEE_GITHUB_API_URL/),
    ]);
  });

  it('refuses a stage the resource names cannot hold', () => {
    expect(problems({ MATINEE_DOMAIN: 'preview.example.com' }, 'Production')).toEqual([
      expect.stringMatching(/^the stage \(--stage\): stage must be/),
    ]);
    expect(problems({ MATINEE_DOMAIN: 'preview.example.com' }, 'a'.repeat(25))).toHaveLength(1);
  });

  it('documents every variable it reads', () => {
    const source = readStageInput.toString();
    const read = [...source.matchAll(/["'](MATINEE_[A-Z_]+)["']/g)].map((m) => m[1]);
    expect(new Set(read)).toEqual(new Set(Object.keys(VARIABLES)));
  });
});

describe('isSchedule', () => {
  it('accepts what EventBridge accepts', () => {
    for (const good of [
      'rate(1 minute)',
      'rate(5 minutes)',
      'rate(1 hour)',
      'rate(2 days)',
      'cron(0 12 * * ? *)',
    ])
      expect(isSchedule(good), good).toBe(true);
    for (const bad of [
      'rate(1 minutes)',
      'rate(5 minute)',
      'rate(0 minutes)',
      'rate(5 weeks)',
      'cron(0 12 * * *)',
      '5m',
    ])
      expect(isSchedule(bad), bad).toBe(false);
  });
});
