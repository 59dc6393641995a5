import {
  cleanLogLines,
  environmentId,
  type LogReader,
  type LogRef,
  onPullRequest,
  onTaskEvent,
  redactSecrets,
  respondToDashboard,
  respondToWake,
  UserError,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';

/** App output as a log store holds it: whatever the app printed, for whichever task. */
class RecordedLogs implements LogReader {
  readonly asked: LogRef[] = [];
  constructor(
    private readonly lines: string[],
    private readonly failure?: Error,
  ) {}
  locate(ref: LogRef) {
    return { url: `https://logs.example.com/${ref.names.service}/${ref.task ?? 'latest'}` };
  }
  async tail(ref: LogRef, lines: number) {
    this.asked.push(ref);
    if (this.failure) throw this.failure;
    return this.lines.slice(-lines);
  }
}

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/',
  accept: 'text/html',
  origin: `https://${HOST}`,
  ...overrides,
});

/** acme/web#42 whose tasks crashed until it was marked failed, the last one being task `f00d`. */
async function crashed(logs: LogReader) {
  const h = harness();
  // Link mode: the preview's cookie makes a viewer allowed.
  const deps = { ...h.deps, logs, settings: { ...h.deps.settings, access: 'link' as const } };
  await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  const env = await h.store.get(ID);
  for (const task of ['beef', 'cafe', 'f00d'])
    await onTaskEvent(deps, {
      service: env?.observed.resources.serviceArn?.split('/').pop() ?? '',
      taskDefinitionArn: env?.observed.resources.taskDefinitionArn ?? '',
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/${task}`,
    });
  await h.drain();
  const stored = await h.store.get(ID);
  const allowed = { cookie: `matinee_${stored?.slug}=${stored?.accessSecret}` };
  return { h, deps, allowed };
}

describe('app output as Matinee shows it', () => {
  it('strips terminal escapes and control characters, and keeps the last lines', () => {
    const raw = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    raw.push('\u001b[31mError:\u001b[0m boom\u0007 \u202eevil', 'progress 10%\rprogress 100%', '', '');

    const lines = cleanLogLines(raw, 5);

    expect(lines).toEqual(['line 27', 'line 28', 'line 29', 'Error: boom evil', 'progress 100%']);
  });

  it('bounds every line', () => {
    const [line = ''] = cleanLogLines(['x'.repeat(100_000)]);

    expect(line.length).toBeLessThanOrEqual(401);
    expect(line.endsWith('…')).toBe(true);
  });

  it.each([
    ['DATABASE_PASSWORD=hunter2 starting', 'DATABASE_PASSWORD=[redacted] starting'],
    ['{"api_key": "abc123def"}', '{"api_key": "[redacted]"}'],
    ['Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl', 'Authorization: [redacted]'],
    ['connecting to postgres://app:s3cret@db:5432/app', 'connecting to postgres://[redacted]@db:5432/app'],
    ['key AKIAIOSFODNN7EXAMPLE in use', 'key [redacted] in use'],
    ['token ghp_0123456789abcdefghijABCDEFGHIJ', 'token [redacted]'],
  ])('redacts obvious secrets: %s', (line, shown) => {
    expect(redactSecrets(line)).toBe(shown);
  });

  it('leaves ordinary lines alone', () => {
    expect(redactSecrets('listening on port 3000 (GET /health)')).toBe(
      'listening on port 3000 (GET /health)',
    );
  });
});

describe("a failed preview's page", () => {
  const output = ['Server starting', '<script>alert(1)</script> password=hunter2', 'Error: cannot reach db'];

  it("shows an allowed viewer the app's last lines, escaped, the health check, and where the whole log is", async () => {
    const logs = new RecordedLogs(output);
    const { deps, allowed } = await crashed(logs);

    const page = await respondToWake(deps, request({ headers: allowed }));

    expect(page.status).toBe(502);
    expect(page.body).toContain('stopped 3 times: Essential container in task exited');
    expect(page.body).toContain('Health check: <code>GET /health on port 3000</code>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; password=[redacted]');
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain('Error: cannot reach db');
    expect(page.body).toContain('href="https://logs.example.com/matinee-test-fix-login-pr42/f00d"');
    // The task that stopped last is the one whose output explains it.
    expect(logs.asked.at(-1)?.task).toBe('f00d');
  });

  it('shows a public viewer the reason only: app output can name anything', async () => {
    const logs = new RecordedLogs(output);
    const { deps } = await crashed(logs);

    const page = await respondToWake(
      { ...deps, settings: { ...deps.settings, access: 'public' } },
      request(),
    );

    expect(page.status).toBe(502);
    expect(page.body).toContain('Essential container in task exited');
    expect(page.body).not.toContain('cannot reach db');
    expect(page.body).not.toContain('logs.example.com');
    expect(logs.asked).toEqual([]);
  });

  it('still explains the failure when the output cannot be read', async () => {
    const { deps, h, allowed } = await crashed(new RecordedLogs([], new Error('ThrottlingException')));

    const page = await respondToWake(deps, request({ headers: allowed }));

    expect(page.status).toBe(502);
    expect(page.body).toContain('Essential container in task exited');
    expect(page.body).toContain('No output from the app: the app output could not be read just now');
    expect(h.log.lines.some((line) => line.message === 'could not read the app output')).toBe(true);
  });

  it('says a failure to start is a failure, not a bare 502, to clients that are not browsers', async () => {
    const h = harness();
    h.cloud.failIn(2, 'before', new UserError('CannotPullContainerError: image not found'));
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();

    const answer = await respondToWake(h.deps, request({ accept: 'application/json' }));

    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('image'),
    });
  });
});

describe('the dashboard API for logs', () => {
  it('answers the state, the reason and the cleaned last lines of an environment', async () => {
    const { deps } = await crashed(new RecordedLogs(['\u001b[1mready\u001b[0m', 'secret=abc']));

    const answer = await respondToDashboard(deps, {
      method: 'GET',
      path: `/api/environments/${encodeURIComponent(ID)}/logs`,
      title: 'Matinee',
    });

    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer?.body ?? '')).toEqual({
      id: ID,
      state: 'failed',
      reason: 'stopped 3 times: Essential container in task exited',
      lines: ['ready', 'secret=[redacted]'],
      location: { url: 'https://logs.example.com/matinee-test-fix-login-pr42/f00d' },
    });
  });

  it('answers 404 for an environment it does not know', async () => {
    const { deps } = await crashed(new RecordedLogs([]));

    const answer = await respondToDashboard(deps, {
      method: 'GET',
      path: `/api/environments/${encodeURIComponent('acme/web#7')}/logs`,
      title: 'Matinee',
    });

    expect(answer?.status).toBe(404);
  });
});
