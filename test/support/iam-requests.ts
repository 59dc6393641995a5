import type { RecordedCall } from './aws-call-recorder.ts';

/**
 * What IAM authorizes for each recorded AWS call (test/support/aws-call-recorder.ts): the action, the
 * resource ARN and the condition keys AWS fills in, after the Service Authorization Reference. A create with
 * tags is also an authorization of the tagging action (`ecs:TagResource`, `elasticloadbalancing:AddTags`, with
 * the `…:CreateAction` key), and a task definition naming roles is also `iam:PassRole` of each. Resource tags
 * come from the recorded creates (what the adapters tagged the resource with) and reads that return tags; `"*"` is the resource of
 * actions that have no resource-level permission.
 */
export interface IamRequest {
  caller?: string;
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

/**
 * What IAM also authorizes when an operation creates a tagged resource or hands a role to a service, besides
 * the operation's own action.
 */
export const IMPLIED: Record<string, string[]> = {
  'ecs:RegisterTaskDefinition': ['ecs:TagResource', 'iam:PassRole'],
  'ecs:CreateService': ['ecs:TagResource'],
  'elasticloadbalancing:CreateTargetGroup': ['elasticloadbalancing:AddTags'],
  'elasticloadbalancing:CreateRule': ['elasticloadbalancing:AddTags'],
  // EFS asks for TagResource when CreateAccessPoint carries tags.
  'elasticfilesystem:CreateAccessPoint': ['elasticfilesystem:TagResource'],
  // IAM asks for TagRole when CreateRole carries tags.
  'iam:CreateRole': ['iam:TagRole'],
};

/** Where calls went that name no ARN of their own (DynamoDB tables, event buses). */
export interface Where {
  partition: string;
  region: string;
  account: string;
}

type Json = Record<string, unknown>;
type Tag = { key?: string; value?: string; Key?: string; Value?: string };

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function tagMap(tags: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const tag of list(tags) as Tag[]) {
    const key = tag.key ?? tag.Key;
    if (key !== undefined) result[key] = tag.value ?? tag.Value ?? '';
  }
  return result;
}

function requestTags(tags: Record<string, string>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
  if (Object.keys(tags).length) context['aws:TagKeys'] = Object.keys(tags);
  return context;
}

function resourceTags(tags: Record<string, string> | undefined): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {})) context[`aws:ResourceTag/${key}`] = value;
  return context;
}

/** `arn:…:ecs:<region>:<account>:cluster/<name>` from a cluster name or ARN. */
function clusterArn(cluster: string, where: Where): string {
  return cluster.startsWith('arn:')
    ? cluster
    : `arn:${where.partition}:ecs:${where.region}:${where.account}:cluster/${cluster || 'default'}`;
}

const ecsBase = (cluster: string) => cluster.replace(/:cluster\/.*$/, '');
const clusterName = (cluster: string) => cluster.replace(/^.*:cluster\//, '');

function taskDefinitionArn(value: string, cluster: string): string {
  return value.startsWith('arn:') ? value : `${ecsBase(cluster)}:task-definition/${value}`;
}

/** `arn:…:codebuild:<region>:<account>:project/<name>` from a project's name or ARN. */
function projectArn(project: string, where: Where): string {
  return project.startsWith('arn:')
    ? project
    : `arn:${where.partition}:codebuild:${where.region}:${where.account}:project/${project}`;
}

function roleArn(name: string, path: string, where: Where): string {
  return `arn:${where.partition}:iam::${where.account}:role${path}${name}`;
}

/**
 * The path of role `name` when no recorded create says (a role made before recording began): the one a
 * ListRoles answer gave it, or `/`.
 */
function pathOf(name: string, calls: RecordedCall[]): string {
  for (const call of calls) {
    if (call.service !== 'iam' || call.command !== 'ListRoles') continue;
    const roles = list((call.output as Json | undefined)?.Roles) as Json[];
    const found = roles.find((role) => role.RoleName === name);
    if (found) return str(found.Path) || '/';
  }
  return '/';
}

/** Every IAM request the recorded calls were, in order. */
export function iamRequests(calls: RecordedCall[], where: Where): IamRequest[] {
  const tagsOf = new Map<string, Record<string, string>>();
  const rolesOf = new Map<string, { arn: string; boundary: string }>();
  const requests: IamRequest[] = [];
  const defaultCluster = clusterArn('', where);
  for (const call of calls) {
    const add = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      requests.push({ caller: call.caller, action: `${call.service}:${action}`, resource, context });
    const addAs = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      requests.push({ caller: call.caller, action, resource, context });
    const input = call.input as Json;
    const output = (call.output ?? {}) as Json;

    switch (`${call.service}:${call.command}`) {
      // ECS
      case 'ecs:RegisterTaskDefinition': {
        const family = str(input.family);
        const arn =
          str((output.taskDefinition as Json | undefined)?.taskDefinitionArn) ||
          `${ecsBase(defaultCluster)}:task-definition/${family}:1`;
        const tags = tagMap(input.tags);
        tagsOf.set(arn, tags);
        add('RegisterTaskDefinition', arn, requestTags(tags));
        if (Object.keys(tags).length)
          add('TagResource', arn, { ...requestTags(tags), 'ecs:CreateAction': 'RegisterTaskDefinition' });
        for (const role of [input.executionRoleArn, input.taskRoleArn].filter(Boolean))
          addAs('iam:PassRole', str(role), { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' });
        break;
      }
      case 'ecs:CreateService': {
        const cluster = clusterArn(str(input.cluster), where);
        const arn =
          str((output.service as Json | undefined)?.serviceArn) ||
          `${ecsBase(cluster)}:service/${clusterName(cluster)}/${str(input.serviceName)}`;
        const tags = tagMap(input.tags);
        tagsOf.set(arn, tags);
        const context = {
          ...requestTags(tags),
          'ecs:cluster': cluster,
          'ecs:task-definition': taskDefinitionArn(str(input.taskDefinition), cluster),
        };
        add('CreateService', arn, context);
        if (Object.keys(tags).length)
          add('TagResource', arn, { ...requestTags(tags), 'ecs:CreateAction': 'CreateService' });
        break;
      }
      case 'ecs:UpdateService':
      case 'ecs:DeleteService':
      case 'ecs:DescribeServices': {
        const cluster = clusterArn(str(input.cluster), where);
        const names =
          call.command === 'DescribeServices' ? list(input.services).map(str) : [str(input.service)];
        for (const name of names) {
          const arn = name.startsWith('arn:')
            ? name
            : `${ecsBase(cluster)}:service/${clusterName(cluster)}/${name}`;
          const context: Record<string, string> = {
            ...resourceTags(tagsOf.get(arn)),
            'ecs:cluster': cluster,
          };
          if (input.taskDefinition)
            context['ecs:task-definition'] = taskDefinitionArn(str(input.taskDefinition), cluster);
          add(call.command, arn, context);
        }
        break;
      }
      case 'ecs:DeleteTaskDefinitions':
        for (const value of list(input.taskDefinitions).map(str)) {
          const arn = taskDefinitionArn(value, defaultCluster);
          add('DeleteTaskDefinitions', arn, resourceTags(tagsOf.get(arn)));
        }
        break;
      case 'ecs:ListTasks': {
        const cluster = clusterArn(str(input.cluster), where);
        // ListTasks is authorized on the cluster's container instances, and limited by ecs:cluster.
        add('ListTasks', `${ecsBase(cluster)}:container-instance/${clusterName(cluster)}/any`, {
          'ecs:cluster': cluster,
        });
        break;
      }
      case 'ecs:DescribeTasks': {
        const cluster = clusterArn(str(input.cluster), where);
        for (const task of list(input.tasks).map(str))
          add(
            'DescribeTasks',
            task.startsWith('arn:') ? task : `${ecsBase(cluster)}:task/${clusterName(cluster)}/${task}`,
            {
              'ecs:cluster': cluster,
            },
          );
        break;
      }
      case 'ecs:DescribeTaskDefinition': {
        // A revision made before the recording (a legacy family's) is known by the tags it was read with.
        const described = str((output.taskDefinition as Json | undefined)?.taskDefinitionArn);
        if (described && output.tags) tagsOf.set(described, tagMap(output.tags));
        add(call.command, '*');
        break;
      }
      case 'ecs:DeregisterTaskDefinition':
      case 'ecs:ListTaskDefinitions':
        add(call.command, '*');
        break;

      // ELBv2
      case 'elasticloadbalancing:CreateTargetGroup': {
        const created = list(output.TargetGroups)[0] as Json | undefined;
        const arn =
          str(created?.TargetGroupArn) ||
          `arn:${where.partition}:elasticloadbalancing:${where.region}:${where.account}:targetgroup/${str(input.Name)}/0000000000000000`;
        const tags = tagMap(input.Tags);
        tagsOf.set(arn, tags);
        add('CreateTargetGroup', arn, requestTags(tags));
        if (Object.keys(tags).length)
          add('AddTags', arn, {
            ...requestTags(tags),
            'elasticloadbalancing:CreateAction': 'CreateTargetGroup',
          });
        break;
      }
      case 'elasticloadbalancing:CreateRule': {
        const listener = str(input.ListenerArn);
        const created = list(output.Rules)[0] as Json | undefined;
        const tags = tagMap(input.Tags);
        add('CreateRule', listener, requestTags(tags));
        const rule = str(created?.RuleArn);
        if (rule) tagsOf.set(rule, tags);
        if (Object.keys(tags).length)
          add('AddTags', rule || `${listener.replace(':listener/', ':listener-rule/')}/0000000000000000`, {
            ...requestTags(tags),
            'elasticloadbalancing:CreateAction': 'CreateRule',
          });
        break;
      }
      case 'elasticloadbalancing:ModifyTargetGroup':
      case 'elasticloadbalancing:ModifyTargetGroupAttributes':
      case 'elasticloadbalancing:DeleteTargetGroup': {
        const arn = str(input.TargetGroupArn);
        add(call.command, arn, resourceTags(tagsOf.get(arn)));
        break;
      }
      case 'elasticloadbalancing:ModifyRule':
      case 'elasticloadbalancing:DeleteRule': {
        const arn = str(input.RuleArn);
        add(call.command, arn, resourceTags(tagsOf.get(arn)));
        break;
      }
      case 'elasticloadbalancing:DescribeRules':
      case 'elasticloadbalancing:DescribeTargetGroups':
      case 'elasticloadbalancing:DescribeTargetHealth':
      case 'elasticloadbalancing:DescribeTags':
        add(call.command, '*');
        break;

      // EFS access points: made in the file system (tags on create), found there, deleted each by its ARN.
      case 'elasticfilesystem:CreateAccessPoint': {
        const fileSystem = `arn:${where.partition}:elasticfilesystem:${where.region}:${where.account}:file-system/${str(input.FileSystemId)}`;
        const id = str(output.AccessPointId);
        const arn = id
          ? `arn:${where.partition}:elasticfilesystem:${where.region}:${where.account}:access-point/${id}`
          : '';
        const tags = tagMap(input.Tags);
        if (arn) tagsOf.set(arn, tags);
        add('CreateAccessPoint', fileSystem, requestTags(tags));
        if (Object.keys(tags).length)
          add('TagResource', arn || `${fileSystem.replace(/:file-system\/.*$/, '')}:access-point/fsap-0`, {
            ...requestTags(tags),
            'elasticfilesystem:CreateAction': 'CreateAccessPoint',
          });
        break;
      }
      case 'elasticfilesystem:DescribeAccessPoints':
        add(
          'DescribeAccessPoints',
          `arn:${where.partition}:elasticfilesystem:${where.region}:${where.account}:file-system/${str(input.FileSystemId)}`,
        );
        break;
      case 'elasticfilesystem:DeleteAccessPoint': {
        const arn = `arn:${where.partition}:elasticfilesystem:${where.region}:${where.account}:access-point/${str(input.AccessPointId)}`;
        add('DeleteAccessPoint', arn, resourceTags(tagsOf.get(arn)));
        break;
      }
      case 'lambda:Invoke': {
        const name = str(input.FunctionName);
        addAs(
          'lambda:InvokeFunction',
          name.startsWith('arn:')
            ? name
            : `arn:${where.partition}:lambda:${where.region}:${where.account}:function:${name}`,
        );
        break;
      }

      // Building images (CodeBuildImageBuilder, EcrImages; and the build itself, as CodeBuild's role): every
      // CodeBuild action is on the project, a build's id being `<project>:<uuid>`; every part of a multipart
      // upload is s3:PutObject on the object.
      case 'codebuild:StartBuild':
      case 'codebuild:ListBuildsForProject':
        add(call.command, projectArn(str(input.projectName), where));
        break;
      case 'codebuild:StopBuild':
      case 'codebuild:BatchGetBuilds': {
        const ids = call.command === 'StopBuild' ? [str(input.id)] : list(input.ids).map(str);
        for (const project of new Set(
          ids.map((id) => id.replace(/^arn:[^:]+:codebuild:[^:]+:\d+:build\//, '').split(':')[0] ?? ''),
        ))
          add(call.command, projectArn(project, where));
        break;
      }
      case 's3:PutObject':
      case 's3:CreateMultipartUpload':
      case 's3:UploadPart':
      case 's3:CompleteMultipartUpload':
        add('PutObject', `arn:${where.partition}:s3:::${str(input.Bucket)}/${str(input.Key)}`);
        break;
      case 's3:GetObject':
      case 's3:AbortMultipartUpload':
        add(call.command, `arn:${where.partition}:s3:::${str(input.Bucket)}/${str(input.Key)}`);
        break;
      case 'ecr:GetAuthorizationToken':
        add(call.command, '*');
        break;
      case 'ecr:ListImages':
      case 'ecr:BatchDeleteImage':
      case 'ecr:BatchGetImage':
      case 'ecr:PutImage':
        add(
          call.command,
          `arn:${where.partition}:ecr:${where.region}:${str(input.registryId) || where.account}:repository/${str(input.repositoryName)}`,
        );
        break;
      // All three on the stream (the Service Authorization Reference has CreateLogStream on the new stream).
      case 'logs:CreateLogStream':
      case 'logs:PutLogEvents':
      case 'logs:GetLogEvents':
        add(
          call.command,
          `arn:${where.partition}:logs:${where.region}:${where.account}:log-group:${str(input.logGroupName)}:log-stream:${str(input.logStreamName)}`,
        );
        break;
      // IAM: environments' own roles, each by its ARN (path and name); the boundary a create or a policy
      // change carries is the `iam:PermissionsBoundary` key, the role's tags `aws:RequestTag/…` on a create.
      case 'iam:CreateRole': {
        const arn = roleArn(str(input.RoleName), str(input.Path) || '/', where);
        rolesOf.set(str(input.RoleName), { arn, boundary: str(input.PermissionsBoundary) });
        const tags = tagMap(input.Tags);
        const boundary = str(input.PermissionsBoundary);
        add('CreateRole', arn, {
          ...requestTags(tags),
          ...(boundary ? { 'iam:PermissionsBoundary': boundary } : {}),
        });
        if (Object.keys(tags).length) add('TagRole', arn, requestTags(tags));
        break;
      }
      case 'iam:PutRolePolicy':
      case 'iam:GetRolePolicy':
      case 'iam:DeleteRolePolicy':
      case 'iam:DeleteRole':
      case 'iam:ListRoleTags': {
        // A call on a role that is not there: IAM authorizes it against `role/<name>` (no path) and refuses
        // it; the adapter takes that refusal as absent once ListRoles on the stage's path agrees
        // (iam-volume-roles.ts). What IAM is asked is that ListRoles.
        if (/NoSuchEntity/.test(call.error ?? '')) {
          add('ListRoles', '*');
          break;
        }
        const known = rolesOf.get(str(input.RoleName));
        const arn = known?.arn ?? roleArn(str(input.RoleName), pathOf(str(input.RoleName), calls), where);
        // IAM fills the key in from the role as it stands (its boundary), for the actions that take it.
        const bounded = ['PutRolePolicy', 'DeleteRolePolicy', 'DeleteRole'].includes(call.command);
        add(
          call.command,
          arn,
          bounded && known?.boundary ? { 'iam:PermissionsBoundary': known.boundary } : {},
        );
        break;
      }
      case 'iam:ListRoles':
        add('ListRoles', '*');
        break;

      // The rest
      case 'events:PutEvents': {
        const buses = new Set(
          list(input.Entries).map((entry) => str((entry as Json).EventBusName) || 'default'),
        );
        for (const bus of buses)
          add(
            'PutEvents',
            bus.startsWith('arn:')
              ? bus
              : `arn:${where.partition}:events:${where.region}:${where.account}:event-bus/${bus}`,
          );
        break;
      }
      case 'cloudwatch:GetMetricData':
      case 'tag:GetResources':
        add(call.command, '*');
        break;
      default:
        if (call.service === 'dynamodb') {
          const table = `arn:${where.partition}:dynamodb:${where.region}:${where.account}:table/${str(input.TableName)}`;
          add(call.command, input.IndexName ? `${table}/index/${str(input.IndexName)}` : table);
          break;
        }
        throw new Error(
          `iam-requests.ts does not know what IAM authorizes for ${call.service}:${call.command}: add it`,
        );
    }
  }
  return requests;
}
