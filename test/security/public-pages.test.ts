import {
  type Environment,
  environmentId,
  onBranchDeleted,
  onPullRequest,
  type PullRequestFacts,
  respondToWake,
  UserError,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * A preview's pages (waking, failed, not deployed, gone, unknown, over a limit) and its status JSON are
 * answered to whoever has the URL. They show only what the URL told them, the host: never the
 * repository, pull request number, branch or commit, and never anything of another environment.
 */
type H = ReturnType<typeof harness>;

const REPO = 'acme/secret-shop';
const ID = environmentId(REPO, 42);
const BRANCH = 'feature/unreleased-pricing';
const SHA = '7e3b9c1d5f2a8e4b6c0d9f1a3e5b7c9d2f4a6e8b';
const HOST = 'feature-unreleased-pricing-pr42.preview.example.com';
const OTHER = { repo: 'globex/merger-plans', branch: 'hostile-takeover', number: 7 };
const OTHER_HOST = 'hostile-takeover-pr7.preview.example.com';

/** What no public answer about HOST may contain, in any case. */
const SECRETS = [
  REPO,
  'acme',
  'secret-shop',
  '#42',
  BRANCH,
  'unreleased-pricing/',
  SHA,
  SHA.slice(0, 7),
  '123456789012',
  OTHER.repo,
  'globex',
  'merger-plans',
  OTHER.branch,
  OTHER_HOST,
  'octocat',
];

const BROWSER = 'text/html,application/xhtml+xml';

function secretShop() {
  const h = harness();
  h.source.setConfig(REPO, WEB_CONFIG);
  h.source.setConfig(OTHER.repo, WEB_CONFIG);
  return h;
}

async function open(h: H, overrides: Partial<PullRequestFacts> = {}) {
  await onPullRequest(h.deps, {
    repo: REPO,
    number: 42,
    action: 'opened',
    facts: facts({ branch: BRANCH, headSha: SHA, ...overrides }),
  });
  await h.drain();
}

async function change(h: H, edit: (env: Environment) => Environment) {
  const env = await h.store.get(ID);
  if (!env) throw new Error('no environment');
  await h.store.save(edit(env));
}

async function asleep(h: H) {
  await open(h);
  h.cloud.startTasks();
  await h.reconcile(ID);
  await change(h, (env) => ({ ...env, desired: { ...env.desired, phase: 'sleeping' } }));
  await h.reconcile(ID);
}

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/',
  accept: BROWSER,
  origin: `https://${HOST}`,
  client: '198.51.100.7',
  ...overrides,
});

/** The page, the JSON answer and the status JSON for HOST, as a stranger gets them. */
async function everyAnswer(h: H, expected: number) {
  const page = await respondToWake(h.deps, request());
  const api = await respondToWake(h.deps, request({ accept: 'application/json' }));
  const status = await respondToWake(h.deps, request({ path: '/__matinee/status', accept: '*/*' }));
  expect(page.status).toBe(expected);
  return [page, api, status];
}

function expectNothingLeaks(answers: { body: string; headers: Record<string, string> }[]) {
  for (const answer of answers) {
    const text = `${JSON.stringify(answer.headers)}\n${answer.body}`.toLowerCase();
    for (const secret of SECRETS) expect(text, `leaks ${secret}`).not.toContain(secret.toLowerCase());
  }
}

describe('public pages of acme/secret-shop#42', () => {
  it('waking: says it is starting, and nothing about the pull request', async () => {
    const h = secretShop();
    await asleep(h);

    const answers = await everyAnswer(h, 200);

    expect(answers[0]?.body).toContain('Waking up');
    expect(answers[0]?.body).toContain(HOST);
    expectNothingLeaks(answers);
  });

  it('routing (ready, host rule on its way): nothing about the pull request', async () => {
    const h = secretShop();
    await open(h);
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.cloud.rules.clear();

    expectNothingLeaks(await everyAnswer(h, 200));
  });

  it('waking at capacity: says another preview makes room, never which', async () => {
    const h = secretShop();
    await onPullRequest(h.deps, {
      repo: OTHER.repo,
      number: OTHER.number,
      action: 'opened',
      facts: facts({ branch: OTHER.branch }),
    });
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(environmentId(OTHER.repo, OTHER.number));
    await asleep(h);
    h.deps.capacity = 1;

    await respondToWake(h.deps, request());
    await h.drain();
    const answers = await everyAnswer(h, 200);

    expect(answers[2]?.body).toContain('another preview is put to sleep');
    expectNothingLeaks(answers);
  });

  it('failed: the reason without repository, branch, commit, image, account or ARNs', async () => {
    const h = secretShop();
    h.cloud.failIn(
      2,
      'before',
      new UserError(
        `CannotPullContainerError: pull 123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/secret-shop:${SHA} ` +
          `(branch ${BRANCH}, ghcr.io/acme/secret-shop:${SHA.slice(0, 7)}): not found; ` +
          'role arn:aws:iam::123456789012:role/secret-shop-exec',
      ),
    );
    await open(h);

    const answers = await everyAnswer(h, 502);

    expect(answers[0]?.body).toContain('CannotPullContainerError');
    expect(answers[0]?.body).toContain('not found');
    expectNothingLeaks(answers);
  });

  it('failed by a workflow: no link to the repository’s runs', async () => {
    const h = secretShop();
    h.source.setConfig(REPO, `${WEB_CONFIG}workflow: build\n`);
    await open(h);
    await change(h, (env) => ({
      ...env,
      builds: {
        [`${SHA} build`]: {
          conclusion: 'failure',
          url: `https://github.com/${REPO}/actions/runs/123456789012345`,
        },
      },
    }));
    await h.reconcile(ID);

    expectNothingLeaks(await everyAnswer(h, 502));
  });

  it('not deployed (a skipped branch): neither the branch nor the pattern', async () => {
    const h = secretShop();
    h.source.setConfig(REPO, WEB_CONFIG.replace("skip: ['*-no-infra']", "skip: ['feature/*']"));
    await open(h);

    const answers = await everyAnswer(h, 404);

    expect(answers[0]?.body).toContain('not deployed');
    expectNothingLeaks(answers);
  });

  it('not deployed (a fork awaiting approval): neither the commit nor who approved what', async () => {
    const h = secretShop();
    await open(h, {
      fork: true,
      labels: ['matinee:deploy'],
      labeledBy: { 'matinee:deploy': 'octocat' },
      labeledAt: { 'matinee:deploy': 'f'.repeat(40) },
    });

    expectNothingLeaks(await everyAnswer(h, 404));
  });

  it('gone (branch deleted): not the branch', async () => {
    const h = secretShop();
    await open(h);
    await onBranchDeleted(h.deps, REPO, BRANCH);
    await h.drain();

    const answers = await everyAnswer(h, 410);

    expect(answers[0]?.body).toContain('removed');
    expectNothingLeaks(answers);
  });

  it('over the wake limit, and the refused retry: nothing either', async () => {
    const h = secretShop();
    h.deps.limits = { perPreview: { count: 1, windowSeconds: 600 } };
    await asleep(h);
    // Spend the preview's one wake, then let it sleep again.
    await respondToWake(h.deps, request({ client: '203.0.113.1' }));
    await h.drain();
    await change(h, (env) => ({ ...env, desired: { ...env.desired, phase: 'sleeping' } }));
    await h.reconcile(ID);

    const limited = await everyAnswer(h, 429);
    const crossSite = await respondToWake(
      h.deps,
      request({ method: 'POST', path: '/__matinee/retry', headers: { 'sec-fetch-site': 'cross-site' } }),
    );

    expect(crossSite.status).toBe(403);
    expectNothingLeaks([...limited, crossSite]);
  });

  it('unknown host: nothing of any environment', async () => {
    const h = secretShop();
    await open(h);

    const answers = [
      await respondToWake(h.deps, request({ host: 'guess-pr1.preview.example.com' })),
      await respondToWake(
        h.deps,
        request({ host: 'guess-pr1.preview.example.com', path: '/__matinee/status' }),
      ),
    ];

    expect(answers[0]?.status).toBe(404);
    expectNothingLeaks(answers);
  });

  it('shows the pull request, branch, commit and whole reason to a viewer an access check allowed', async () => {
    const h = secretShop();
    h.deps.settings = { ...h.deps.settings, access: 'link' };
    h.cloud.failIn(2, 'before', new UserError('CannotPullContainerError: 123456789012.dkr.ecr… not found'));
    await open(h);
    const env = await h.store.get(ID);

    const page = await respondToWake(
      h.deps,
      request({ headers: { cookie: `matinee_${env?.slug}=${env?.accessSecret}` } }),
    );

    expect(page.body).toContain(`${REPO}#42`);
    expect(page.body).toContain(BRANCH);
    expect(page.body).toContain(SHA.slice(0, 7));
    expect(page.body).toContain('123456789012');
  });
});
