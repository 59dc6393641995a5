import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
  ThrottledException,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { awsTags, environmentIdFromTag, TaggingInventory } from '@matinee/aws';
import { MatineeError, TransientError } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

const HOST = 'fix-login-pr42.preview.example.com';
const tags = (environment?: string, host?: string) => [
  { Key: 'matinee:stage', Value: 'test' },
  ...(environment ? [{ Key: 'matinee:environment', Value: environment }] : []),
  ...(host ? [{ Key: 'matinee:host', Value: host }] : []),
];
const ARN = {
  service: 'arn:aws:ecs:eu-west-1:123456789012:service/matinee-test/matinee-test-fix-login-pr42',
  taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/matinee-test-fix-login-pr42:3',
  targetGroup:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-fix-login-pr42-x/0123456789abcdef',
  rule: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/matinee-test/50dc/f2f7/0001',
  accessPoint: 'arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0',
};

function setup() {
  const tagging = new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' });
  const mock = mockClient(tagging);
  return { mock, inventory: new TaggingInventory({ tagging, stage: 'test' }) };
}

describe('TaggingInventory', () => {
  it("lists this stage's services, task definitions, target groups, rules and access points, every page", async () => {
    const { mock, inventory } = setup();
    mock
      .on(GetResourcesCommand)
      .resolvesOnce({
        ResourceTagMappingList: [
          { ResourceARN: ARN.service, Tags: tags('acme/web:42', HOST) },
          { ResourceARN: ARN.taskDefinition, Tags: tags('acme/web:42', HOST) },
        ],
        PaginationToken: 'page-2',
      })
      .resolvesOnce({
        ResourceTagMappingList: [
          { ResourceARN: ARN.targetGroup, Tags: tags('acme/web:42', HOST) },
          { ResourceARN: ARN.rule, Tags: tags('acme/web:42', HOST) },
          { ResourceARN: ARN.accessPoint, Tags: tags('acme/web:42', HOST) },
        ],
        PaginationToken: '',
      });

    const owned = await inventory.listOwned();

    const base = { environmentId: 'acme/web#42', host: HOST };
    expect(owned).toEqual([
      { arn: ARN.service, kind: 'service', ...base },
      { arn: ARN.taskDefinition, kind: 'task-definition', ...base },
      { arn: ARN.targetGroup, kind: 'target-group', ...base },
      { arn: ARN.rule, kind: 'rule', ...base },
      { arn: ARN.accessPoint, kind: 'volume', ...base },
    ]);
    expect(mock.commandCalls(GetResourcesCommand).map((call) => call.args[0].input)).toEqual(
      [undefined, 'page-2'].map((PaginationToken) => ({
        TagFilters: [{ Key: 'matinee:stage', Values: ['test'] }],
        ResourceTypeFilters: [
          'ecs:service',
          'ecs:task-definition',
          'elasticloadbalancing:targetgroup',
          'elasticloadbalancing:listener-rule',
          'elasticfilesystem:access-point',
        ],
        PaginationToken,
      })),
    );
  });

  it('leaves out resources whose environment or host tag is missing', async () => {
    const { mock, inventory } = setup();
    mock.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [
        { ResourceARN: ARN.service, Tags: tags(undefined, HOST) },
        { ResourceARN: ARN.targetGroup, Tags: tags('acme/web:42') },
      ],
    });

    expect(await inventory.listOwned()).toEqual([]);
  });

  it('turns throttling into a TransientError', async () => {
    const { mock, inventory } = setup();
    mock.on(GetResourcesCommand).rejects(new ThrottledException({ message: 'slow down', $metadata: {} }));

    await expect(inventory.listOwned()).rejects.toBeInstanceOf(TransientError);
  });
});

describe('AWS tags', () => {
  it("write an environment id without the '#' AWS rejects, and read it back", () => {
    const written = awsTags({ 'matinee:environment': 'acme/web.js#42', 'matinee:host': HOST });

    expect(written).toEqual({ 'matinee:environment': 'acme/web.js:42', 'matinee:host': HOST });
    expect(environmentIdFromTag(written['matinee:environment'] ?? '')).toBe('acme/web.js#42');
  });

  it('refuse a value AWS would reject, naming the tag', () => {
    expect(() => awsTags({ 'matinee:host': 'a,b' })).toThrow(MatineeError);
    expect(() => awsTags({ 'matinee:host': 'a,b' })).toThrow(/matinee:host/);
  });
});
