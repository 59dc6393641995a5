import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import {
  type EnvironmentRef,
  MatineeError,
  type OwnedResource,
  shortHash,
  TAG_ENVIRONMENT,
  TAG_HOST,
  TAG_STAGE,
  TransientError,
} from '@matinee/core';
import { elbTags, environmentIdFromTag, tagRecord } from './aws-tags.ts';
import { aws, fromAws, isAwsError } from './errors.ts';

/** IAM's longest role name. */
export const MAX_ROLE_NAME = 64;

/** The inline policy of an environment's role: mounting its own access points, no others. */
export const VOLUME_POLICY_NAME = 'own-volumes';

/**
 * Where a stage's environment roles live (`/matinee/<stage>/`): what the control plane's IAM grants, the
 * permissions boundary and the file system's policy are held to. A stage's name ends at the slash, so stage
 * `a` never reaches stage `a-b`'s roles.
 */
export function volumeRolePath(stage: string): string {
  return `/matinee/${stage}/`;
}

/**
 * An environment's role name: unique in the account (IAM role names are, whatever their path), so the stage
 * and the environment id are in its hash; the slug, shortened to fit 64 characters, says whose it is.
 */
export function volumeRoleName(stage: string, ref: Pick<EnvironmentRef, 'id' | 'names'>): string {
  const hash = shortHash(`${stage}|${ref.id}`);
  const head = `${ref.names.service}`.slice(0, MAX_ROLE_NAME - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** The role's own policy: ClientMount and ClientWrite on the file system, through `accessPointArns` only. */
export function volumeRolePolicy(fileSystemArn: string, accessPointArns: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OwnAccessPointsOnly',
        Effect: 'Allow',
        Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        Resource: fileSystemArn,
        Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': [...accessPointArns].sort() } },
      },
    ],
  };
}

export interface VolumeRolesOptions {
  iam: IAMClient;
  stage: string;
  /**
   * The managed policy every role made here carries as its permissions boundary (stacks/volumes.ts): the
   * control plane may create roles only with it, so no role it makes can do more than mount volumes.
   */
  permissionsBoundaryArn: string;
}

/**
 * Each environment with volumes runs as a role of its own, which may mount only its own access points: the
 * stage's previews share a file system, and without this any of them could mount another's volume through
 * an NFS client of its own (see README, "Volumes on AWS"). Roles live under `/matinee/<stage>/`, are tagged
 * like the environment's other resources and found again by path and tags. Every call is idempotent.
 */
export class VolumeRoles {
  private readonly path: string;
  private readonly arnBase: string;

  constructor(private readonly options: VolumeRolesOptions) {
    this.path = volumeRolePath(options.stage);
    const boundary = /^arn:([^:]+):iam::(\d{12}):policy\//.exec(options.permissionsBoundaryArn);
    if (!boundary) throw new MatineeError(`${options.permissionsBoundaryArn} is not an IAM policy ARN`);
    this.arnBase = `arn:${boundary[1]}:iam::${boundary[2]}`;
  }

  /** The ARN of `ref`'s role, made or not. */
  arnOf(ref: EnvironmentRef): string {
    return `${this.arnBase}:role${this.path}${volumeRoleName(this.options.stage, ref)}`;
  }

  /**
   * `ref`'s role when it exists and its policy admits exactly `accessPointArns` on `fileSystemArn`; undefined
   * when it has to be made or brought up to date (`ensure`).
   */
  async admitting(
    ref: EnvironmentRef,
    fileSystemArn: string,
    accessPointArns: readonly string[],
  ): Promise<string | undefined> {
    const RoleName = volumeRoleName(this.options.stage, ref);
    let document: string | undefined;
    try {
      ({ PolicyDocument: document } = await this.options.iam.send(
        new GetRolePolicyCommand({ RoleName, PolicyName: VOLUME_POLICY_NAME }),
      ));
    } catch (error) {
      if (await this.absent(error, RoleName)) return undefined;
      throw fromAws(error, `GetRolePolicy ${RoleName}`);
    }
    const wanted = JSON.stringify(volumeRolePolicy(fileSystemArn, accessPointArns));
    return document && samePolicy(document, wanted) ? this.arnOf(ref) : undefined;
  }

  /** Makes `ref`'s role (with the boundary, tagged) unless it exists, and sets its policy; returns its ARN. */
  async ensure(
    ref: EnvironmentRef,
    fileSystemArn: string,
    accessPointArns: readonly string[],
  ): Promise<string> {
    const RoleName = volumeRoleName(this.options.stage, ref);
    const account = this.arnBase.split(':')[4];
    try {
      await this.options.iam.send(
        new CreateRoleCommand({
          RoleName,
          Path: this.path,
          PermissionsBoundary: this.options.permissionsBoundaryArn,
          Description: `Matinee ${this.options.stage}: ${ref.host} mounts its own volumes, nothing else`,
          // Only ECS tasks of this account (the confused-deputy guard AWS recommends for task roles).
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'ecs-tasks.amazonaws.com' },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:SourceAccount': account } },
              },
            ],
          }),
          Tags: elbTags(ref.tags),
        }),
      );
    } catch (error) {
      // Made by an earlier reconcile cut short, or a concurrent one: its policy is set below either way.
      if (!isAwsError(error, 'EntityAlreadyExistsException', 'EntityAlreadyExists'))
        throw fromAws(error, `CreateRole ${RoleName}`);
    }
    try {
      await this.options.iam.send(
        new PutRolePolicyCommand({
          RoleName,
          PolicyName: VOLUME_POLICY_NAME,
          PolicyDocument: JSON.stringify(volumeRolePolicy(fileSystemArn, accessPointArns)),
        }),
      );
    } catch (error) {
      // IAM is eventually consistent: a role made a moment ago may not be found yet. The reconcile is retried.
      if (isAwsError(error, 'NoSuchEntityException', 'NoSuchEntity'))
        throw new TransientError(`PutRolePolicy ${RoleName}: the role just made is not visible yet`, {
          cause: error,
        });
      throw fromAws(error, `PutRolePolicy ${RoleName}`);
    }
    return this.arnOf(ref);
  }

  /** Deletes `ref`'s role and its policy. Absent already is success. */
  async remove(ref: EnvironmentRef): Promise<void> {
    const RoleName = volumeRoleName(this.options.stage, ref);
    // Its inline policy first: IAM deletes no role that still has one.
    const steps: [string, () => Promise<unknown>][] = [
      [
        'DeleteRolePolicy',
        () =>
          this.options.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName: VOLUME_POLICY_NAME })),
      ],
      ['DeleteRole', () => this.options.iam.send(new DeleteRoleCommand({ RoleName }))],
    ];
    for (const [call, run] of steps) {
      try {
        await run();
      } catch (error) {
        if (await this.absent(error, RoleName)) continue;
        throw fromAws(error, `${call} ${RoleName}`);
      }
    }
  }

  /**
   * Whether `error`, from a call on role `name`, means the role (or its policy) is not there. IAM authorizes
   * a call on a role that does not exist against `role/<name>`, which is outside the stage's path and so
   * outside the control plane's grants: it answers AccessDenied rather than NoSuchEntity. Then the stage's
   * path is asked whether the role is there; a refusal of a role that is there is a refusal.
   */
  private async absent(error: unknown, name: string): Promise<boolean> {
    if (isAwsError(error, 'NoSuchEntityException', 'NoSuchEntity')) return true;
    if (!isAwsError(error, 'AccessDenied', 'AccessDeniedException')) return false;
    return !(await this.roles()).some((role) => role.RoleName === name);
  }

  /** Every role under the stage's path (and deeper: ListRoles takes a prefix), every page. */
  private async roles(): Promise<Role[]> {
    const found: Role[] = [];
    let marker: string | undefined;
    do {
      const page = await aws(`ListRoles ${this.path}`, () =>
        this.options.iam.send(new ListRolesCommand({ PathPrefix: this.path, Marker: marker })),
      );
      found.push(...(page.Roles ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return found;
  }

  /** The stage's environment roles (by path) and whose each is (by its tags), for the orphan collector. */
  async listOwned(): Promise<OwnedResource[]> {
    const owned: OwnedResource[] = [];
    for (const role of await this.roles()) {
      // A path prefix matches deeper paths too: only this stage's own level is ours.
      if (role.Path !== this.path || !role.RoleName || !role.Arn) continue;
      const { Tags } = await aws(`ListRoleTags ${role.RoleName}`, () =>
        this.options.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName })),
      );
      const tags = tagRecord(Tags);
      const environment = tags[TAG_ENVIRONMENT];
      const host = tags[TAG_HOST];
      if (tags[TAG_STAGE] !== this.options.stage || !environment || !host) continue;
      owned.push({ kind: 'volume', arn: role.Arn, environmentId: environmentIdFromTag(environment), host });
    }
    return owned;
  }
}

/** Whether IAM's copy of a policy (URL-encoded, perhaps reformatted) is `wanted`. */
function samePolicy(stored: string, wanted: string): boolean {
  try {
    const text = stored.trimStart().startsWith('{') ? stored : decodeURIComponent(stored);
    return JSON.stringify(JSON.parse(text)) === wanted;
  } catch {
    return false;
  }
}
