/**
 * What the runtime (ECS) and router (ELBv2) adapters may do to an environment's resources: reading and
 * taking them down (reconcile and resync), creating them (reconcile only). See stacks/permissions.ts for
 * how each action is scoped.
 */

import { type Statement, stageTag } from './iam-statements.ts';
import { type StageResources, stagePatterns } from './stage-resources.ts';

/** ECS: reading an environment's service, task definitions and stopped tasks, and taking them down. */
export function ecsTeardown(r: StageResources): Statement[] {
  const p = stagePatterns(r);
  return [
    {
      actions: ['ecs:DescribeServices', 'ecs:DeleteService'],
      resources: [p.services],
    },
    {
      // No resource-level permissions for these three.
      actions: ['ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions'],
      resources: ['*'],
    },
    {
      // The legacy family's revisions are told apart from another stage's by this tag alone.
      actions: ['ecs:DeleteTaskDefinitions'],
      resources: [p.taskDefinitions, p.legacyTaskDefinitions],
      conditions: [stageTag('ResourceTag', r.stage)],
    },
    {
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [r.clusterArn] }],
    },
    { actions: ['ecs:DescribeTasks'], resources: [p.tasks] },
  ];
}

/** ECS: creating task definitions and services, tagged with the stage, running as the two preview roles. */
export function ecsCreate(r: StageResources): Statement[] {
  const p = stagePatterns(r);
  return [
    {
      actions: ['ecs:RegisterTaskDefinition'],
      resources: [p.taskDefinitions],
      conditions: [stageTag('RequestTag', r.stage)],
    },
    {
      // Scaling and rolling out: a teardown deletes the service outright (force), so only reconcile does this.
      actions: ['ecs:UpdateService'],
      resources: [p.services],
    },
    {
      actions: ['ecs:CreateService'],
      resources: [p.services],
      conditions: [
        stageTag('RequestTag', r.stage),
        { test: 'ArnEquals', variable: 'ecs:cluster', values: [r.clusterArn] },
      ],
    },
    {
      // Tags given to RegisterTaskDefinition and CreateService, this stage's; never tagging existing resources.
      actions: ['ecs:TagResource'],
      resources: [p.taskDefinitions, p.services],
      conditions: [
        {
          test: 'StringEquals',
          variable: 'ecs:CreateAction',
          values: ['RegisterTaskDefinition', 'CreateService'],
        },
        stageTag('RequestTag', r.stage),
      ],
    },
    {
      actions: ['iam:PassRole'],
      resources: [r.executionRoleArn, r.taskRoleArn],
      conditions: [
        { test: 'StringEquals', variable: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] },
      ],
    },
  ];
}

/** ELBv2: reading the listener's rules and the target groups, and removing an environment's. */
export function elbTeardown(r: StageResources): Statement[] {
  const p = stagePatterns(r);
  return [
    {
      // No resource-level permissions for Describe*.
      actions: [
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags',
      ],
      resources: ['*'],
    },
    {
      actions: ['elasticloadbalancing:DeleteRule'],
      resources: [p.rules],
    },
    {
      actions: ['elasticloadbalancing:DeleteTargetGroup'],
      resources: [p.targetGroups],
      conditions: [stageTag('ResourceTag', r.stage)],
    },
  ];
}

/** ELBv2: creating an environment's target group and host rule, tagged with the stage. */
export function elbCreate(r: StageResources): Statement[] {
  const p = stagePatterns(r);
  return [
    {
      actions: ['elasticloadbalancing:CreateTargetGroup'],
      resources: [p.targetGroups],
      conditions: [stageTag('RequestTag', r.stage)],
    },
    {
      actions: ['elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes'],
      resources: [p.targetGroups],
      conditions: [stageTag('ResourceTag', r.stage)],
    },
    {
      actions: ['elasticloadbalancing:CreateRule'],
      resources: [r.listenerArn],
      conditions: [stageTag('RequestTag', r.stage)],
    },
    {
      // Turning a warming rule live, or pointing it at the group again: never part of a teardown.
      actions: ['elasticloadbalancing:ModifyRule'],
      resources: [p.rules],
    },
    {
      // Tags given to CreateTargetGroup and CreateRule, this stage's (target group names are shared by every
      // stage); never tagging existing resources.
      actions: ['elasticloadbalancing:AddTags'],
      resources: [p.targetGroups, p.rules],
      conditions: [
        {
          test: 'StringEquals',
          variable: 'elasticloadbalancing:CreateAction',
          values: ['CreateTargetGroup', 'CreateRule'],
        },
        stageTag('RequestTag', r.stage),
      ],
    },
  ];
}
