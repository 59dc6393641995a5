import {
  type AccessPointDescription,
  CreateAccessPointCommand,
  DeleteAccessPointCommand,
  DescribeAccessPointsCommand,
  type EFSClient,
} from '@aws-sdk/client-efs';
import {
  type EnvironmentRef,
  type Inventory,
  MatineeError,
  type OwnedResource,
  shortHash,
  slugFromService,
  TAG_ENVIRONMENT,
  TAG_HOST,
  TAG_STAGE,
  type TaskVolume,
  UserError,
  type VolumeHandle,
  type Volumes,
} from '@matinee/core';
import { elbTags, environmentIdFromTag, tagRecord } from './aws-tags.ts';
import { aws, fromAws, isAwsError } from './errors.ts';
import type { VolumeRoles } from './iam-volume-roles.ts';
import type { VolumeJanitor } from './volume-janitor.ts';

/** On access points: the `.matinee.yml` volume name an access point is for. */
export const TAG_VOLUME = 'matinee:volume';

/** Who a volume's files belong to when `.matinee.yml` names nobody: an ordinary user, never root. */
export const DEFAULT_OWNER = 1000;

export interface EfsVolumesOptions {
  efs: EFSClient;
  /** The stage's file system (stacks/volumes.ts). */
  fileSystemId: string;
  stage: string;
  /** Deletes data and lists directories; an access point alone cannot (see volume-janitor.ts). */
  janitor: VolumeJanitor;
  /** Each environment's own role, the only one that may mount its access points (iam-volume-roles.ts). */
  roles: VolumeRoles;
}

/** One of an environment's access points, as EFS describes it. */
interface EnvironmentPoint {
  name: string;
  accessPointId: string;
  arn: string;
  uid?: number;
  gid?: number;
}

/**
 * How a volume is reached: as its owner. An access point enforces its POSIX user on every call, so a
 * container running as root writes as the owner too and no preview ever needs EFS root access
 * (`elasticfilesystem:ClientRootAccess`). A volume with an owner is private to it (0700, what Postgres asks
 * of its data directory); one without belongs to uid 1000 and others may read it (0755).
 */
export function accessPointOwner(volume: Pick<TaskVolume, 'name' | 'uid' | 'gid'>) {
  if (volume.uid === 0 || volume.gid === 0)
    throw new UserError(
      `volume \`${volume.name}\`: uid/gid 0 (root) cannot own a volume on AWS, since previews have no root access to EFS; name the user the process runs as (Postgres: 999), or leave uid out`,
    );
  const named = volume.uid !== undefined || volume.gid !== undefined;
  return {
    uid: volume.uid ?? DEFAULT_OWNER,
    gid: volume.gid ?? volume.uid ?? DEFAULT_OWNER,
    permissions: named ? '0700' : '0755',
  };
}

/**
 * Volumes on EFS: one access point per environment volume in the stage's file system, rooted at
 * `/<stage>/<slug>/<volume>`, tagged with the environment's tags and the volume's name and found again by
 * them, mounted only by the environment's own role (`VolumeRoles`), whose policy names these access points.
 * Data is deleted by the janitor before an access point goes (deleting one keeps its files).
 */
export class EfsVolumes implements Volumes, Inventory {
  constructor(private readonly options: EfsVolumesOptions) {}

  /** The environment's directory under the stage's: its slug (unique in the stage while it lives). */
  private dirOf(ref: EnvironmentRef): string {
    const slug = slugFromService(this.options.stage, ref.names.service);
    if (!slug)
      throw new MatineeError(`${ref.names.service} is not an environment of stage ${this.options.stage}`);
    return slug;
  }

  async describe(ref: EnvironmentRef): Promise<VolumeHandle[]> {
    const points = await this.accessPointsOf(ref);
    if (!points.length) return [];
    // No identity while the role is missing or names other access points: the next revision ensures it.
    const identity = await this.options.roles.admitting(ref, this.fileSystemArn(points), arnsOf(points));
    return handles(points, identity);
  }

  async ensure(ref: EnvironmentRef, volumes: TaskVolume[]): Promise<VolumeHandle[]> {
    const dir = this.dirOf(ref);
    const wanted = new Map(volumes.map((volume) => [volume.name, accessPointOwner(volume)]));
    const found = await this.accessPointsOf(ref);
    // An access point enforces its owner and cannot be changed: a volume whose uid/gid changed gets a new one,
    // over the same directory (its files keep their owners; see README, "Volumes on AWS").
    const stale = found.filter((point) => {
      const owner = wanted.get(point.name);
      return owner && (owner.uid !== point.uid || owner.gid !== point.gid);
    });
    for (const point of stale) await this.deleteAccessPoint(point.accessPointId);
    const existing = new Set(found.filter((point) => !stale.includes(point)).map((point) => point.name));
    const missing = volumes.filter((volume) => !existing.has(volume.name));
    if (missing.length) {
      // The owner file first: an access point never exists without a directory the collector can attribute.
      await this.options.janitor.claim(dir, ref.tags);
      // One at a time: EFS throttles bursts of CreateAccessPoint (the SDK backs off, then reconcile retries).
      for (const volume of missing) await this.create(ref, dir, volume);
    }
    const points = missing.length || stale.length ? await this.accessPointsOf(ref) : found;
    if (!points.length) return [];
    // The role is made (or its policy rewritten) after the access points it names, before any task names it.
    const identity = await this.options.roles.ensure(ref, this.fileSystemArn(points), arnsOf(points));
    return handles(points, identity);
  }

  async empty(ref: EnvironmentRef, names: string[]): Promise<void> {
    const dir = this.dirOf(ref);
    await this.options.janitor.empty(names.map((name) => `${dir}/${name}`));
  }

  async remove(ref: EnvironmentRef): Promise<void> {
    // The data first: once its access points are gone, nothing left says whose the directory was but the
    // owner file, and the next close or resync tries again while an access point still stands.
    await this.options.janitor.remove(this.dirOf(ref));
    for (const point of await this.accessPointsOf(ref)) await this.deleteAccessPoint(point.accessPointId);
    // The role last: while an access point stands, the role that mounts it may still be needed.
    await this.options.roles.remove(ref);
  }

  private async deleteAccessPoint(accessPointId: string): Promise<void> {
    try {
      await this.options.efs.send(new DeleteAccessPointCommand({ AccessPointId: accessPointId }));
    } catch (error) {
      if (isAwsError(error, 'AccessPointNotFound')) return;
      throw fromAws(error, `DeleteAccessPoint ${accessPointId}`);
    }
  }

  /** The file system's ARN, from one of its access points' (same partition, region and account). */
  private fileSystemArn(points: EnvironmentPoint[]): string {
    const [point] = points;
    if (!point) throw new MatineeError('no access point to tell the file system ARN by');
    return point.arn.replace(/:access-point\/.*$/, `:file-system/${this.options.fileSystemId}`);
  }

  /**
   * Directories of the stage's file system and the environments their owner files name, for the orphan
   * collector (access points themselves are found by the tagging API). A directory without an owner file
   * is left alone: nobody can tell whose it is.
   */
  async listOwned(): Promise<OwnedResource[]> {
    // Roles too: an environment's role is removed with its volumes (`remove`), so whatever owns one is collected.
    const owned: OwnedResource[] = await this.options.roles.listOwned();
    for (const { dir, tags } of await this.options.janitor.list()) {
      const environment = tags[TAG_ENVIRONMENT];
      const host = tags[TAG_HOST];
      if (tags[TAG_STAGE] !== this.options.stage || !environment || !host) continue;
      owned.push({
        kind: 'volume',
        arn: `efs://${this.options.fileSystemId}/${this.options.stage}/${dir}`,
        environmentId: environmentIdFromTag(environment),
        host,
      });
    }
    return owned;
  }

  private async create(ref: EnvironmentRef, dir: string, volume: TaskVolume): Promise<void> {
    const { fileSystemId, stage } = this.options;
    const owner = accessPointOwner(volume);
    const path = `/${stage}/${dir}/${volume.name}`;
    const input = {
      FileSystemId: fileSystemId,
      PosixUser: { Uid: owner.uid, Gid: owner.gid },
      RootDirectory: {
        Path: path,
        CreationInfo: { OwnerUid: owner.uid, OwnerGid: owner.gid, Permissions: owner.permissions },
      },
      Tags: elbTags({
        ...ref.tags,
        [TAG_VOLUME]: volume.name,
        Name: `matinee ${stage} ${dir} ${volume.name}`,
      }),
    };
    // A retried create (the reconcile cut short after the call) returns the same access point.
    const token = `matinee-${shortHash(`${fileSystemId}|${ref.id}|${ref.host}|${path}|${owner.uid}:${owner.gid}`, 16)}`;
    try {
      await this.options.efs.send(new CreateAccessPointCommand({ ...input, ClientToken: token }));
    } catch (error) {
      if (isAwsError(error, 'AccessPointLimitExceeded'))
        throw new UserError(
          `volume \`${volume.name}\`: the stage's EFS file system holds its most access points (10,000 unless AWS raised the quota), one per volume of every open pull request; closing pull requests frees them`,
          { cause: error },
        );
      // The token outlived an access point deleted since (a pull request reopened): make one without it.
      if (isAwsError(error, 'AccessPointAlreadyExists')) {
        const found = (await this.accessPointsOf(ref)).some((point) => point.name === volume.name);
        if (!found)
          await aws(`CreateAccessPoint ${path}`, () =>
            this.options.efs.send(new CreateAccessPointCommand(input)),
          );
        return;
      }
      // Throttling (a burst of new volumes) is a TransientError: the reconcile is retried, and says why.
      throw fromAws(error, `CreateAccessPoint ${path}`);
    }
  }

  /** This environment's access points (by their tags), every page of the file system's. */
  private async accessPointsOf(ref: EnvironmentRef): Promise<EnvironmentPoint[]> {
    const found: EnvironmentPoint[] = [];
    const want = Object.fromEntries(elbTags(ref.tags).map(({ Key, Value }) => [Key, Value]));
    let token: string | undefined;
    do {
      const page = await aws(`DescribeAccessPoints ${this.options.fileSystemId}`, () =>
        this.options.efs.send(
          new DescribeAccessPointsCommand({ FileSystemId: this.options.fileSystemId, NextToken: token }),
        ),
      );
      for (const point of page.AccessPoints ?? []) {
        const name = mine(point, want);
        if (name && point.AccessPointId && point.AccessPointArn)
          found.push({
            name,
            accessPointId: point.AccessPointId,
            arn: point.AccessPointArn,
            uid: point.PosixUser?.Uid,
            gid: point.PosixUser?.Gid,
          });
      }
      token = page.NextToken || undefined;
    } while (token);
    return found;
  }
}

function arnsOf(points: EnvironmentPoint[]): string[] {
  return points.map((point) => point.arn);
}

/** What tasks mount `points` by, sorted by name; `identity` is the role that may. */
function handles(points: EnvironmentPoint[], identity: string | undefined): VolumeHandle[] {
  return points
    .map(({ name, accessPointId }) => ({ name, source: accessPointId, ...(identity ? { identity } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The volume name of `point` when it carries every one of `want`'s tags and is not being deleted. */
function mine(point: AccessPointDescription, want: Record<string, string>): string | undefined {
  if (point.LifeCycleState === 'deleting' || point.LifeCycleState === 'deleted') return undefined;
  const tags = tagRecord(point.Tags);
  if (!Object.entries(want).every(([key, value]) => tags[key] === value)) return undefined;
  return tags[TAG_VOLUME];
}
