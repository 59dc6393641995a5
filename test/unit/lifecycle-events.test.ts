import {
  environmentId,
  formatSeconds,
  onPullRequest,
  onTaskEvent,
  type PullRequestFacts,
  sweep,
  wake,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/** What a person reads in the log as a preview lives: one event a line, with how long it took. */
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';

function event(h: ReturnType<typeof harness>, action: string, overrides: Partial<PullRequestFacts> = {}) {
  return onPullRequest(h.deps, { repo: 'acme/web', number: 42, action, facts: facts(overrides) });
}

const lines = (h: ReturnType<typeof harness>, level?: string) =>
  h.log.lines.filter((line) => !level || line.level === level).map((line) => line.message);

/** Opened, started, and healthy `ms` later. */
async function readyAfter(h: ReturnType<typeof harness>, ms: number) {
  await event(h, 'opened');
  await h.drain();
  h.clock.advance(ms);
  h.cloud.startTasks();
  await h.reconcile(ID);
}

describe('the log', () => {
  it('says when a preview starts and when it is ready, with how long it took', async () => {
    const h = harness();

    await readyAfter(h, 1400);

    expect(lines(h, 'info')).toEqual([
      'fix-login-pr42 starting (pull request opened)',
      'fix-login-pr42 ready in 1.4 s',
    ]);
    expect(h.log.lines.at(-1)?.fields).toMatchObject({ id: ID, url: `https://${HOST}` });
  });

  it('keeps the steps behind it (ensureService, ensureRule, …) at debug level only', async () => {
    const h = harness();

    await readyAfter(h, 1000);

    expect(h.log.lines.filter((line) => line.level !== 'debug').map((line) => line.fields?.step)).toEqual([
      undefined,
      undefined,
    ]);
    expect(h.log.lines.filter((line) => line.level === 'debug').map((line) => line.fields?.step)).toEqual(
      expect.arrayContaining(['ensureTargetGroup', 'registerRevision', 'ensureService', 'ensureRule']),
    );
  });

  it('says how long a preview was idle when it goes to sleep, and how long a wake took', async () => {
    const h = harness();
    await readyAfter(h, 1000);
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    await h.drain();
    await wake(h.deps, HOST);
    h.clock.advance(2100);
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(ID);

    expect(lines(h, 'info').slice(2)).toEqual([
      'fix-login-pr42 asleep after 31 min idle',
      'fix-login-pr42 woken by a request',
      'fix-login-pr42 starting (woken by a request)',
      'fix-login-pr42 ready in 2.1 s',
    ]);
  });

  it('says when a preview is removed, and why', async () => {
    const h = harness();
    await readyAfter(h, 1000);

    await event(h, 'closed', { open: false, merged: true, updatedAt: '2026-11-02T10:00:00Z' });
    await h.drain();

    expect(lines(h, 'info').at(-1)).toBe('fix-login-pr42 removed (pull request merged)');
  });

  it('says each time a preview stops on its own, and when it is failed, with the reason', async () => {
    const h = harness();
    await readyAfter(h, 1000);
    const env = await h.store.get(ID);
    let task = 0;
    const stopped = () =>
      onTaskEvent(h.deps, {
        service: 'matinee-test-fix-login-pr42',
        taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/${++task}`,
        taskDefinitionArn: env?.observed.resources.taskDefinitionArn ?? '',
        lastStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'app exited (code 1)',
      });

    await stopped();
    await stopped();
    await stopped();
    await h.drain();

    expect(lines(h, 'warn')).toEqual([
      'fix-login-pr42 stopped on its own (1 of 3), restarting: app exited (code 1)',
      'fix-login-pr42 stopped on its own (2 of 3), restarting: app exited (code 1)',
      'fix-login-pr42 failed: stopped 3 times: app exited (code 1)',
    ]);
  });
});

describe('durations', () => {
  it.each([
    [0.04, '0.0 s'],
    [1.44, '1.4 s'],
    [9.96, '10 s'],
    [59.7, '1 min'],
    [20.4, '20 s'],
    [65, '1 min 5 s'],
    [1860, '31 min'],
    [7800, '2 h 10 min'],
  ])('%s seconds read as %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });
});
