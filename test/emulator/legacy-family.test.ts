import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { environmentTagValue } from '@matinee/aws';
import { resourceNames, TAG_ENVIRONMENT, TAG_STAGE } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ID, pullRequest, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { type MotoDeployment, motoDeployment } from './support/moto-deployment.ts';

/**
 * A preview made before task definition families took `_` (`matinee-<stage>-<slug>`, see naming.ts) keeps
 * working: its service (same name as ever) is rolled out onto the new family, the legacy revision it ran is
 * retired, and a close removes what is left of it, while another stage's revision in the same legacy family
 * (stage `<stage>-fix`'s `login-pr42` was also `matinee-<stage>-fix-login-pr42`) stays untouched.
 */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

/** Puts the environment back as the code before `_` left it: its service on a legacy-family revision. */
async function madeBeforeTheSeparator(d: MotoDeployment) {
  const ecs = d.moto.admin.ecs;
  const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
  const current = `${names.family}:1`;
  const { taskDefinition, tags } = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: current, include: ['TAGS'] }),
  );
  const copy = (family: string, given: typeof tags): RegisterTaskDefinitionCommandInput => ({
    family,
    networkMode: taskDefinition?.networkMode,
    requiresCompatibilities: taskDefinition?.requiresCompatibilities,
    cpu: taskDefinition?.cpu,
    memory: taskDefinition?.memory,
    executionRoleArn: taskDefinition?.executionRoleArn,
    taskRoleArn: taskDefinition?.taskRoleArn,
    containerDefinitions: taskDefinition?.containerDefinitions,
    tags: given,
  });
  const ours = await ecs.send(new RegisterTaskDefinitionCommand(copy(names.legacyFamily, tags)));
  const theirTags = (tags ?? []).map((tag) =>
    tag.key === TAG_STAGE ? { key: TAG_STAGE, value: `${d.moto.stage}-fix` } : tag,
  );
  const theirs = await ecs.send(new RegisterTaskDefinitionCommand(copy(names.legacyFamily, theirTags)));
  await ecs.send(
    new UpdateServiceCommand({
      cluster: d.moto.settings.cluster.arn,
      service: names.service,
      taskDefinition: ours.taskDefinition?.taskDefinitionArn,
    }),
  );
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: current }));
  await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [current] }));
  await d.settle();
  return {
    names,
    ours: ours.taskDefinition?.taskDefinitionArn ?? '',
    theirs: theirs.taskDefinition?.taskDefinitionArn ?? '',
  };
}

describe.skipIf(!inject('motoEndpoint'))('a preview made under the legacy task definition family', () => {
  it('rolls out onto the new family, retires its legacy revision, and a close takes only its own', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    const { names, ours, theirs } = await madeBeforeTheSeparator(d);
    const status = async () =>
      Object.fromEntries(
        (await held.taskDefinitions(names.legacyFamily)).map((td) => [td.taskDefinitionArn, td.status]),
      );
    expect(await status()).toEqual({ [ours]: 'ACTIVE', [theirs]: 'ACTIVE' });
    expect(await held.taskDefinitions(names.family)).toEqual([]);

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    const [service, ...more] = await held.activeServices();
    expect(more).toEqual([]);
    const [rolled] = await held.taskDefinitions(names.family);
    expect(service).toMatchObject({ serviceName: names.service, taskDefinition: rolled?.taskDefinitionArn });
    expect(rolled?.tags).toMatchObject({
      [TAG_STAGE]: d.moto.stage,
      [TAG_ENVIRONMENT]: environmentTagValue(ID),
    });
    expect(await status()).toEqual({ [ours]: 'INACTIVE', [theirs]: 'ACTIVE' });

    github.pulls.splice(0);
    await d.step('close', () =>
      d.webhook('pull_request', pullRequest('closed', SHA_2, '2026-11-22T13:00:00Z', { state: 'closed' })),
    );
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('deleted');
    expect(await held.activeServices()).toEqual([]);
    expect(await held.taskDefinitions(names.family)).toEqual([]);
    // The other stage's revision of the shared legacy family is all that is left of it.
    expect(await status()).toEqual({ [theirs]: 'ACTIVE' });
  });
});
