import { resourceNames } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { sweepIdle } from '../../functions/sweep.ts';
import { ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { type MotoDeployment, motoDeployment } from './support/moto-deployment.ts';

/** Closing a pull request whose preview is not running: asleep, or failed. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

async function close(d: MotoDeployment) {
  github.pulls.splice(0);
  await d.step('close', () =>
    d.webhook(
      'pull_request',
      pullRequest('closed', SHA_1, '2026-11-22T13:00:00Z', { state: 'closed', merged: false }),
    ),
  );
}

/** Nothing of the environment left in moto but its deleted service, which moto keeps INACTIVE. */
async function expectNothingLeft(d: MotoDeployment, held: Holdings) {
  expect((await d.platform.store.get(ID))?.observed.phase).toBe('deleted');
  expect(await held.hostRules()).toEqual([]);
  expect(await held.targetGroups()).toEqual([]);
  expect(await held.activeServices()).toEqual([]);
  expect(await held.taskDefinitions(resourceNames(d.moto.stage, ID, 'fix-login-pr42').family)).toEqual([]);
  expect((await held.tagged()).filter((arn) => !arn.includes(':service/'))).toEqual([]);
  expect((await held.services()).map((s) => s.status)).toEqual(['INACTIVE']);
}

describe.skipIf(!inject('motoEndpoint'))('closing a preview that is not running, on moto', () => {
  it('removes a sleeping preview: its detached target group, its service at 0 and its task definitions', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    d.clock.advance(2 * 3600_000);
    await d.step('sleep', () => d.as('sweep', () => sweepIdle(d.platform)));
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('sleeping');
    expect(await held.targetGroups()).toHaveLength(1);

    await close(d);

    await expectNothingLeft(d, held);
  });

  it('removes a failed preview, whose service crashed down to 0, with no task left running', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    d.ecs.crashing.set(names.service, 'Essential container in task exited');
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('failed');
    const [service] = await held.activeServices();

    await close(d);

    await expectNothingLeft(d, held);
    expect(d.ecs.running(service?.serviceArn ?? '')).toEqual([]);
  });
});
