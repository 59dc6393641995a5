import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateFileSystemCommand,
  DeleteAccessPointCommand,
  DescribeAccessPointsCommand,
  EFSClient,
} from '@aws-sdk/client-efs';
import {
  CreatePolicyCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import {
  EcsRuntime,
  EfsVolumes,
  FileJanitor,
  OWNER_FILE,
  TAG_VOLUME,
  VOLUME_POLICY_NAME,
  VolumeRoles,
  volumeRoleName,
} from '@matinee/aws';
import {
  environmentId,
  environmentRef,
  TAG_ENVIRONMENT,
  TAG_HOST,
  TAG_STAGE,
  type TaskSpec,
  type TaskVolume,
} from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { motoClient } from './support/moto-stage.ts';

/**
 * The EFS volumes adapter against moto's EFS (access points, their tags, root directories and POSIX users)
 * and ECS (a task definition mounting them); the janitor's mount is a temporary directory.
 */
const VOLUMES: TaskVolume[] = [
  { name: 'data', container: 'app', path: '/data' },
  { name: 'pg', container: 'db', path: '/var/lib/postgresql/data', uid: 999, gid: 999 },
];

let mount: string;
beforeEach(async () => {
  mount = await mkdtemp(join(tmpdir(), 'matinee-efs-'));
});
afterEach(() => rm(mount, { recursive: true, force: true }));

async function stage() {
  const endpoint = inject('motoEndpoint');
  const efs = motoClient(EFSClient, endpoint);
  const name = `emu-${Math.random().toString(16).slice(2, 10)}`;
  const { FileSystemId } = await efs.send(
    new CreateFileSystemCommand({
      CreationToken: name,
      Encrypted: true,
      Tags: [{ Key: 'Name', Value: name }],
    }),
  );
  const fileSystemId = FileSystemId ?? '';
  const janitor = new FileJanitor(mount);
  const iam = motoClient(IAMClient, endpoint);
  const { Policy } = await iam.send(
    new CreatePolicyCommand({
      PolicyName: `${name}-boundary`,
      Path: `/matinee/${name}/`,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'elasticfilesystem:ClientMount', Resource: '*' }],
      }),
    }),
  );
  const boundary = Policy?.Arn ?? '';
  const roles = new VolumeRoles({ iam, stage: name, permissionsBoundaryArn: boundary });
  const volumes = new EfsVolumes({ efs, fileSystemId, stage: name, janitor, roles });
  const ref = (pr: number) => {
    const slug = `branch-pr${pr}`;
    return environmentRef(
      { stage: name, domain: 'preview.example.com' },
      {
        id: environmentId('acme/web', pr),
        slug,
        host: `${slug}.preview.example.com`,
        observed: { resources: {} },
      },
    );
  };
  const points = async () =>
    (await efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId }))).AccessPoints ?? [];
  /** The access points the role of environment `pr` may mount, from the policy IAM holds. */
  const admitted = async (pr: number) => {
    const { PolicyDocument } = await iam.send(
      new GetRolePolicyCommand({
        RoleName: volumeRoleName(name, ref(pr)),
        PolicyName: VOLUME_POLICY_NAME,
      }),
    );
    const text = decodeURIComponent(PolicyDocument ?? '');
    const [statement] = JSON.parse(text).Statement;
    return [statement.Condition.StringEquals['elasticfilesystem:AccessPointArn']].flat().sort();
  };
  return { endpoint, efs, iam, boundary, fileSystemId, name, volumes, ref, points, admitted };
}

describe.skipIf(!inject('motoEndpoint'))('volumes on moto’s EFS', () => {
  it("makes one access point per volume, rooted in the environment's directory, owned as the config says, tagged", async () => {
    const s = await stage();
    const handles = await s.volumes.ensure(s.ref(1), VOLUMES);

    const points = await s.points();
    expect(handles.map((h) => h.name)).toEqual(['data', 'pg']);
    expect(handles.map((h) => h.source).sort()).toEqual(points.map((p) => p.AccessPointId).sort());
    const byName = Object.fromEntries(
      points.map((p) => [p.Tags?.find((t) => t.Key === TAG_VOLUME)?.Value, p]),
    );
    expect(byName.data).toMatchObject({
      PosixUser: { Uid: 1000, Gid: 1000 },
      RootDirectory: {
        Path: `/${s.name}/branch-pr1/data`,
        CreationInfo: { OwnerUid: 1000, OwnerGid: 1000, Permissions: '0755' },
      },
    });
    expect(byName.pg).toMatchObject({
      PosixUser: { Uid: 999, Gid: 999 },
      RootDirectory: {
        Path: `/${s.name}/branch-pr1/pg`,
        CreationInfo: { OwnerUid: 999, OwnerGid: 999, Permissions: '0700' },
      },
    });
    const tags = Object.fromEntries(
      (byName.pg?.Tags ?? []).map((t: { Key?: string; Value?: string }) => [t.Key, t.Value]),
    );
    expect(tags).toMatchObject({
      [TAG_STAGE]: s.name,
      [TAG_ENVIRONMENT]: 'acme/web:1',
      [TAG_HOST]: 'branch-pr1.preview.example.com',
      [TAG_VOLUME]: 'pg',
    });
    // The owner file the orphan collector reads, beside the volumes.
    const owner = JSON.parse(await readFile(join(mount, 'branch-pr1', OWNER_FILE), 'utf8'));
    expect(owner.tags[TAG_ENVIRONMENT]).toBe('acme/web#1');
  });

  it('makes nothing twice, sees only its own environment, and makes again an access point deleted behind its back', async () => {
    const s = await stage();
    const first = await s.volumes.ensure(s.ref(1), VOLUMES);
    await s.volumes.ensure(s.ref(2), VOLUMES.slice(0, 1));

    expect(await s.volumes.ensure(s.ref(1), VOLUMES)).toEqual(first);
    expect(await s.points()).toHaveLength(3);
    expect((await s.volumes.describe(s.ref(2))).map((h) => h.name)).toEqual(['data']);

    const lost = first.find((h) => h.name === 'pg')?.source ?? '';
    await s.efs.send(new DeleteAccessPointCommand({ AccessPointId: lost }));
    expect((await s.volumes.describe(s.ref(1))).map((h) => h.name)).toEqual(['data']);
    const again = await s.volumes.ensure(s.ref(1), VOLUMES);
    expect(again.find((h) => h.name === 'pg')?.source).not.toBe(lost);
    expect(again.find((h) => h.name === 'data')).toEqual(first.find((h) => h.name === 'data'));
  });

  it("empties a volume's files and keeps the volume; removing deletes the data, then the access points", async () => {
    const s = await stage();
    await s.volumes.ensure(s.ref(1), VOLUMES);
    await s.volumes.ensure(s.ref(2), VOLUMES);
    // What the tasks wrote through their access points, as the janitor's mount shows it.
    for (const dir of ['branch-pr1/data', 'branch-pr1/pg/base', 'branch-pr2/data']) {
      await mkdir(join(mount, dir), { recursive: true });
      await writeFile(join(mount, dir, 'file'), 'x');
    }

    await s.volumes.empty(s.ref(1), ['data']);
    expect(await readdir(join(mount, 'branch-pr1/data'))).toEqual([]);
    expect(await readdir(join(mount, 'branch-pr1/pg'))).toEqual(['base']);

    await s.volumes.remove(s.ref(1));
    expect((await readdir(mount)).sort()).toEqual(['branch-pr2']);
    expect(await s.volumes.describe(s.ref(1))).toEqual([]);
    expect((await s.volumes.describe(s.ref(2))).map((h) => h.name)).toEqual(['data', 'pg']);
    // Removing again is done.
    await s.volumes.remove(s.ref(1));
  });

  it('lists directories by the owner written beside them, for the orphan collector', async () => {
    const s = await stage();
    await s.volumes.ensure(s.ref(3), VOLUMES.slice(0, 1));
    await mkdir(join(mount, 'nobody-knows'));

    const directories = (await s.volumes.listOwned()).filter((owned) => owned.arn.startsWith('efs://'));
    expect(directories).toEqual([
      {
        kind: 'volume',
        arn: `efs://${s.fileSystemId}/${s.name}/branch-pr3`,
        environmentId: 'acme/web#3',
        host: 'branch-pr3.preview.example.com',
      },
    ]);
  });

  it('registers a task definition that mounts each volume through its access point, encrypted and IAM-authorised', async () => {
    const s = await stage();
    const handles = await s.volumes.ensure(s.ref(1), VOLUMES);
    const source = (name: string) => handles.find((h) => h.name === name)?.source;
    const ecs = motoClient(ECSClient, s.endpoint);
    const runtime = new EcsRuntime({
      ecs,
      cluster: 'default',
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      taskRoleArn: 'arn:aws:iam::123456789012:role/task',
      logGroup: '/matinee/test',
      region: 'us-east-1',
      subnets: ['subnet-1'],
      securityGroups: ['sg-1'],
      assignPublicIp: true,
      fileSystemId: s.fileSystemId,
    });
    const spec: TaskSpec = {
      revision: `rev-${s.name}`,
      sha: '1'.repeat(40),
      containers: [
        { name: 'app', image: 'web', env: {}, port: 3000, essential: true },
        { name: 'db', image: 'postgres:16', env: {}, essential: true },
        { name: 'matinee-seed', image: 'web', env: {}, essential: false },
      ],
      cpu: 256,
      memory: 512,
      port: 3000,
      healthPath: '/',
      spot: false,
      volumes: VOLUMES.map((v) => ({ ...v, source: source(v.name) })),
      identity: handles[0]?.identity,
    };

    const { taskDefinitionArn } = await runtime.registerRevision(s.ref(1), spec);

    const { taskDefinition } = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
    );
    // The environment's own role, not the stage's shared one: only it may mount these access points.
    expect(taskDefinition?.taskRoleArn).toBe(handles[0]?.identity);
    expect(taskDefinition?.taskRoleArn).toMatch(new RegExp(`:role/matinee/${s.name}/`));
    expect(taskDefinition?.volumes).toMatchObject([
      {
        name: 'data',
        efsVolumeConfiguration: {
          fileSystemId: s.fileSystemId,
          transitEncryption: 'ENABLED',
          authorizationConfig: { accessPointId: source('data'), iam: 'ENABLED' },
        },
      },
      {
        name: 'pg',
        efsVolumeConfiguration: {
          fileSystemId: s.fileSystemId,
          transitEncryption: 'ENABLED',
          authorizationConfig: { accessPointId: source('pg'), iam: 'ENABLED' },
        },
      },
    ]);
    const mounts = Object.fromEntries(
      (taskDefinition?.containerDefinitions ?? []).map((c) => [c.name, c.mountPoints]),
    );
    expect(mounts.app).toEqual([{ sourceVolume: 'data', containerPath: '/data', readOnly: false }]);
    expect(mounts.db).toEqual([
      { sourceVolume: 'pg', containerPath: '/var/lib/postgresql/data', readOnly: false },
    ]);
    // The seed runs as the app: it sees the app's data.
    expect(mounts['matinee-seed']).toEqual(mounts.app);
  });

  it('gives each environment a role of its own, bounded, tagged, that may mount its own access points and no others', async () => {
    const s = await stage();
    const one = await s.volumes.ensure(s.ref(1), VOLUMES);
    const two = await s.volumes.ensure(s.ref(2), VOLUMES.slice(0, 1));

    const points = await s.points();
    const arn = (id: string) => points.find((p) => p.AccessPointId === id)?.AccessPointArn;
    expect(await s.admitted(1)).toEqual(one.map((h) => arn(h.source)).sort());
    expect(await s.admitted(2)).toEqual(two.map((h) => arn(h.source)).sort());
    for (const handle of one) expect(await s.admitted(2)).not.toContain(arn(handle.source));
    const identity = one[0]?.identity ?? '';
    expect(one.every((h) => h.identity === identity)).toBe(true);
    expect(identity).toMatch(new RegExp(`:role/matinee/${s.name}/`));
    expect(two[0]?.identity).not.toBe(identity);
    const { Role } = await s.iam.send(new GetRoleCommand({ RoleName: volumeRoleName(s.name, s.ref(1)) }));
    expect(Role?.Arn).toBe(identity);
    expect(Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(s.boundary);
    const { Tags } = await s.iam.send(
      new ListRoleTagsCommand({ RoleName: volumeRoleName(s.name, s.ref(1)) }),
    );
    expect(Tags).toEqual(expect.arrayContaining([{ Key: TAG_ENVIRONMENT, Value: 'acme/web:1' }]));
    // What describe sees is what ensure made: the same revision, no new task definition.
    expect(await s.volumes.describe(s.ref(1))).toEqual(one);
  });

  it('reports no identity while the role is missing, and ensure makes it again', async () => {
    const s = await stage();
    const made = await s.volumes.ensure(s.ref(1), VOLUMES.slice(0, 1));
    await s.iam.send(
      new DeleteRolePolicyCommand({
        RoleName: volumeRoleName(s.name, s.ref(1)),
        PolicyName: VOLUME_POLICY_NAME,
      }),
    );

    expect((await s.volumes.describe(s.ref(1)))[0]?.identity).toBeUndefined();
    const again = await s.volumes.ensure(s.ref(1), VOLUMES.slice(0, 1));
    expect(again[0]?.identity).toBe(made[0]?.identity);
  });

  it('replaces the access point of a volume whose owner changed, over the same directory', async () => {
    const s = await stage();
    const before = await s.volumes.ensure(s.ref(1), VOLUMES);
    const changed = VOLUMES.map((v) => (v.name === 'pg' ? { ...v, uid: 70, gid: 70 } : v));

    const after = await s.volumes.ensure(s.ref(1), changed);

    const pg = (await s.points()).find((p) => p.AccessPointId === after.find((h) => h.name === 'pg')?.source);
    expect(pg?.PosixUser).toMatchObject({ Uid: 70, Gid: 70 });
    expect(pg?.RootDirectory?.Path).toBe(`/${s.name}/branch-pr1/pg`);
    expect(after.find((h) => h.name === 'pg')?.source).not.toBe(before.find((h) => h.name === 'pg')?.source);
    expect(after.find((h) => h.name === 'data')).toEqual(before.find((h) => h.name === 'data'));
    expect(await s.points()).toHaveLength(2);
    // The role follows: the old access point is no longer one it may mount.
    const arns = (await s.points()).map((p) => p.AccessPointArn).sort();
    expect(await s.admitted(1)).toEqual(arns);
  });

  it('deletes the role with the volumes, and lists roles (by path and tags) for the orphan collector', async () => {
    const s = await stage();
    await s.volumes.ensure(s.ref(1), VOLUMES.slice(0, 1));
    await s.volumes.ensure(s.ref(2), VOLUMES.slice(0, 1));

    const owned = await s.volumes.listOwned();
    expect(
      owned
        .filter((o) => o.arn.includes(':role/'))
        .map((o) => o.environmentId)
        .sort(),
    ).toEqual(['acme/web#1', 'acme/web#2']);
    await s.volumes.remove(s.ref(1));

    const left = await s.volumes.listOwned();
    expect(left.filter((o) => o.arn.includes(':role/')).map((o) => o.environmentId)).toEqual(['acme/web#2']);
    await expect(
      s.iam.send(new GetRoleCommand({ RoleName: volumeRoleName(s.name, s.ref(1)) })),
    ).rejects.toThrow(/not found|cannot be found/i);
  });
});
