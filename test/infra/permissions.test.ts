import path from 'node:path';
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import { TAG_STAGE as CORE_TAG_STAGE, environmentId, resourceNames, slugCandidates } from '@matinee/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { volumeRoleName } from '../../packages/aws/src/iam-volume-roles.ts';
import { TAG_STAGE } from '../../stacks/iam-statements.ts';
import { FUNCTION_NAMES, type FunctionName, functionPermissions } from '../../stacks/permissions.ts';
import { type StageResources, stagePatterns } from '../../stacks/stage-resources.ts';
import { IMPLIED } from '../support/iam-requests.ts';
import { sdkActions } from '../support/sdk-actions.ts';

/** The IAM statements of stacks/permissions.ts, against the code the functions run. */
const ROOT = path.resolve(import.meta.dirname, '../..');

const resources = (stage = 'production'): StageResources => ({
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  stage,
  clusterName: 'MatineeCluster-1a2b3c4',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/MatineeCluster-1a2b3c4',
  listenerArn:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/matinee/50dc6c495c0c9188/f2f7dc8e',
  tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/matinee-production-MatineeTable',
  busArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/matinee-production-MatineeBus',
  executionRoleArn: 'arn:aws:iam::123456789012:role/MatineeTaskExecutionRole-1a2b3c4',
  taskRoleArn: 'arn:aws:iam::123456789012:role/MatineePreviewTaskRole-1a2b3c4',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:MatineeDeadLetters-1a2b3c4',
  previewLogGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/matinee/production/previews',
  fileSystemArn: 'arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0',
  janitorFunctionArn:
    'arn:aws:lambda:eu-west-1:123456789012:function:matinee-production-MatineeVolumeJanitorFunction-1a2b3c4',
  volumeRoleBoundaryArn: `arn:aws:iam::123456789012:policy/matinee/${stage}/matinee-${stage}-preview-volumes`,
  build: {
    projectArn: 'arn:aws:codebuild:eu-west-1:123456789012:project/matinee-production',
    bucketArn: 'arn:aws:s3:::matinee-production-sources-1a2b3c4d',
    repositoryArn: 'arn:aws:ecr:eu-west-1:123456789012:repository/matinee-production',
    logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/matinee/production/builds',
  },
});

const granted = (name: FunctionName) =>
  new Set(functionPermissions(resources())[name].flatMap((s) => s.actions));

/** IAM's wildcard match: `*` is any run of characters, `?` one. */
function matches(pattern: string, value: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`).test(value);
}

/** In every DynamoDB client's bundle for endpoint discovery, which is off unless asked for. */
const UNUSED = ['dynamodb:DescribeEndpoints'];

/**
 * The AWS calls each handler's bundle can make (test/support/sdk-actions.ts), and what IAM authorizes with them
 * (tagging on create, passing roles: test/support/iam-requests.ts). Whether each call is allowed, on which
 * resources and under which conditions, is test/infra/iam-simulated.test.ts's to say: it simulates the calls a
 * whole life makes against the synthesized policies. Here: nothing is granted that no code can call.
 */
const callable = {} as Record<FunctionName, Set<string>>;
beforeAll(async () => {
  for (const name of FUNCTION_NAMES) {
    const actions = (await sdkActions(path.join(ROOT, 'functions', `${name}.ts`))).filter(
      (action) => !UNUSED.includes(action),
    );
    callable[name] = new Set([...actions, ...actions.flatMap((action) => IMPLIED[action] ?? [])]);
  }
}, 60_000);

describe('each function', () => {
  it.each(FUNCTION_NAMES)('%s may call nothing its code does not', (name) => {
    expect(callable.reconcile.has('ecs:CreateService')).toBe(true);
    const extra = [...granted(name)].filter(
      (action) =>
        !callable[name].has(action) &&
        // The dead-letter destination of the two functions EventBridge invokes.
        !(action === 'sqs:SendMessage' && (name === 'reconcile' || name === 'task-events')),
    );
    expect(extra).toEqual([]);
  });
});

describe('statements', () => {
  const all = FUNCTION_NAMES.flatMap((name) => functionPermissions(resources())[name]);

  it('never use a wildcard action', () => {
    for (const statement of all) expect(statement.actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('use "*" resources only for actions without resource-level permissions (per iam-data), or limited by condition', async () => {
    const unscoped = all.filter((s) => s.resources.includes('*'));
    for (const statement of unscoped) expect(statement.resources).toEqual(['*']);
    const scopable: string[] = [];
    for (const action of new Set(unscoped.flatMap((s) => s.actions))) {
      const [service = '', name = ''] = action.split(':');
      if (!(await isWildcardOnlyAction(service, name))) scopable.push(action);
    }
    // ListTasks is limited to the cluster by ecs:cluster; GetMetricData's one resource type is an optional
    // observability `dataset`, and metrics have no ARN.
    expect(scopable.sort()).toEqual(['cloudwatch:GetMetricData', 'ecs:ListTasks']);
    const listTasks = unscoped.filter((s) => s.actions.includes('ecs:ListTasks'));
    for (const statement of listTasks)
      expect(statement.conditions).toEqual([
        { test: 'ArnEquals', variable: 'ecs:cluster', values: [resources().clusterArn] },
      ]);
  });

  it('let only reconcile pass roles, the two preview roles and the stage’s environment roles, to ECS tasks', () => {
    for (const name of FUNCTION_NAMES) {
      const passRole = functionPermissions(resources())[name].filter((s) =>
        s.actions.includes('iam:PassRole'),
      );
      if (name !== 'reconcile') {
        expect(passRole, name).toEqual([]);
        continue;
      }
      const toTasks = [
        { test: 'StringEquals', variable: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] },
      ];
      expect(passRole).toEqual([
        {
          actions: ['iam:PassRole'],
          resources: [resources().executionRoleArn, resources().taskRoleArn],
          conditions: toTasks,
        },
        {
          actions: ['iam:PassRole'],
          resources: ['arn:aws:iam::123456789012:role/matinee/production/*'],
          conditions: toTasks,
        },
      ]);
    }
  });

  it('let roles be made and given policies only under the stage’s path, and only with its permissions boundary', () => {
    const boundary = {
      test: 'StringEquals',
      variable: 'iam:PermissionsBoundary',
      values: [resources().volumeRoleBoundaryArn],
    };
    const iam = all.filter((s) => s.actions.some((a) => a.startsWith('iam:')));
    for (const statement of iam.filter((s) => !s.actions.includes('iam:ListRoles')))
      for (const resource of statement.resources)
        expect([
          resources().executionRoleArn,
          resources().taskRoleArn,
          stagePatterns(resources()).volumeRoles,
        ]).toContain(resource);
    const grants = iam.filter((s) =>
      s.actions.some((a) => ['iam:CreateRole', 'iam:PutRolePolicy'].includes(a)),
    );
    expect(grants.length).toBeGreaterThan(0);
    for (const statement of grants) expect(statement.conditions).toContainEqual(boundary);
    // Nothing may change or drop a boundary once a role has it, nor attach managed policies.
    for (const action of iam.flatMap((s) => s.actions))
      expect(action).not.toMatch(/PermissionsBoundary|AttachRolePolicy|UpdateAssumeRolePolicy/);
  });

  it('require the stage tag on everything they create, under the tag key the adapters write', () => {
    expect(TAG_STAGE).toBe(CORE_TAG_STAGE);
    const creates = all.filter((s) =>
      s.actions.some((a) =>
        [
          'ecs:RegisterTaskDefinition',
          'ecs:CreateService',
          'elasticloadbalancing:CreateTargetGroup',
          'elasticloadbalancing:CreateRule',
          'iam:CreateRole',
        ].includes(a),
      ),
    );
    expect(creates.length).toBeGreaterThan(0);
    for (const statement of creates) {
      expect(statement.conditions).toContainEqual({
        test: 'StringEquals',
        variable: `aws:RequestTag/${TAG_STAGE}`,
        values: ['production'],
      });
    }
  });
});

describe('ARN patterns', () => {
  const stage = fc.stringMatching(/^[a-z][a-z0-9-]{0,23}$/);
  const branch = fc.string({ maxLength: 80 });

  it("cover every name an environment's resources get, and no other stage's", () => {
    fc.assert(
      fc.property(stage, stage, branch, fc.integer({ min: 1, max: 99_999 }), (mine, other, head, number) => {
        const id = environmentId('acme/web', number);
        const p = stagePatterns(resources(mine));
        for (const slug of slugCandidates(id, head, number, 'preview.example.com')) {
          const names = resourceNames(mine, id, slug);
          expect(
            matches(
              p.taskDefinitions,
              `arn:aws:ecs:eu-west-1:123456789012:task-definition/${names.family}:3`,
            ),
          ).toBe(true);
          expect(
            matches(
              p.services,
              `arn:aws:ecs:eu-west-1:123456789012:service/MatineeCluster-1a2b3c4/${names.service}`,
            ),
          ).toBe(true);
          expect(
            matches(
              p.targetGroups,
              `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${names.targetGroup}/73e2d6bc24d8a067`,
            ),
          ).toBe(true);
          // Another stage's task definitions (account-wide), always; its services only by their cluster.
          const theirs = resourceNames(other, id, slug);
          if (other !== mine)
            expect(
              matches(
                p.taskDefinitions,
                `arn:aws:ecs:eu-west-1:123456789012:task-definition/${theirs.family}:3`,
              ),
            ).toBe(false);
          // The legacy family is covered (deleting its revisions), and is what stages used to share.
          expect(
            matches(
              p.legacyTaskDefinitions,
              `arn:aws:ecs:eu-west-1:123456789012:task-definition/${names.legacyFamily}:3`,
            ),
          ).toBe(true);
          if (!theirs.service.startsWith(`matinee-${mine}-`))
            expect(
              matches(
                p.services,
                `arn:aws:ecs:eu-west-1:123456789012:service/MatineeCluster-1a2b3c4/${theirs.service}`,
              ),
            ).toBe(false);
          expect(
            matches(
              p.services,
              `arn:aws:ecs:eu-west-1:123456789012:service/OtherCluster-1a2b3c4/${theirs.service}`,
            ),
          ).toBe(false);
          // Environment roles: this stage's path, never another stage's (`a` is not `a-b`).
          const role = (stage: string, n: typeof names) =>
            `arn:aws:iam::123456789012:role/matinee/${stage}/${volumeRoleName(stage, { id, names: n })}`;
          expect(matches(p.volumeRoles, role(mine, names))).toBe(true);
          if (other !== mine) expect(matches(p.volumeRoles, role(other, theirs))).toBe(false);
        }
      }),
    );
  });

  it('let nothing register into, or tag, a legacy family; deleting its revisions needs the stage tag', () => {
    const r = resources();
    const p = stagePatterns(r);
    const statements = Object.values(functionPermissions(r)).flat();
    const on = (pattern: string) => statements.filter((s) => s.resources.includes(pattern));
    expect(on(p.legacyTaskDefinitions).flatMap((s) => s.actions)).toEqual([
      'ecs:DeleteTaskDefinitions',
      'ecs:DeleteTaskDefinitions',
    ]);
    for (const statement of on(p.legacyTaskDefinitions))
      expect(statement.conditions).toContainEqual({
        test: 'StringEquals',
        variable: `aws:ResourceTag/${TAG_STAGE}`,
        values: ['production'],
      });
  });

  it("cover the listener's rules and nothing of another listener", () => {
    const p = stagePatterns(resources());
    expect(
      matches(
        p.rules,
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/matinee/50dc6c495c0c9188/f2f7dc8e/9683b2d02a6cabee',
      ),
    ).toBe(true);
    expect(
      matches(
        p.rules,
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/other/50dc6c495c0c9188/aaaa/9683b2d02a6cabee',
      ),
    ).toBe(false);
  });
});
