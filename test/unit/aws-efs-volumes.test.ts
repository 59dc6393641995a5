import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAccessPointCommand, DescribeAccessPointsCommand, EFSClient } from '@aws-sdk/client-efs';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  accessPointOwner,
  EfsVolumes,
  efsVolumes,
  FileJanitor,
  janitorRequest,
  LambdaVolumeJanitor,
  MAX_ROLE_NAME,
  mountPoints,
  VolumeRoles,
  volumeRoleName,
  volumeRolePolicy,
} from '@matinee/aws';
import {
  EFS_STANDARD_GB_MONTH,
  environmentId,
  environmentRef,
  type TaskSpec,
  TransientError,
  UserError,
} from '@matinee/core';
import { renderComment } from '@matinee/github';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** A Lambda payload as the SDK hands it back (its blob adapter is a Uint8Array with helpers the code does not use). */
const encode = (value: unknown) =>
  new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];
const ref = environmentRef(
  { stage: 'test', domain: 'preview.example.com' },
  {
    id: environmentId('acme/web', 42),
    slug: 'fix-login-pr42',
    host: 'fix-login-pr42.preview.example.com',
    observed: { resources: {} },
  },
);

describe('an access point’s owner', () => {
  it('is the volume’s uid and gid with 0700, or uid 1000 with 0755 when the config names nobody', () => {
    expect(accessPointOwner({ name: 'pg', uid: 999, gid: 999 })).toEqual({
      uid: 999,
      gid: 999,
      permissions: '0700',
    });
    expect(accessPointOwner({ name: 'data' })).toEqual({ uid: 1000, gid: 1000, permissions: '0755' });
  });

  it('is never root: previews have no root access to EFS, and the config is told so', () => {
    expect(() => accessPointOwner({ name: 'data', uid: 0 })).toThrow(UserError);
    expect(() => accessPointOwner({ name: 'data', uid: 5, gid: 0 })).toThrow(/uid\/gid 0 \(root\)/);
  });
});

describe('the janitor', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'matinee-janitor-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('refuses any event that could name a path outside its mount, before touching anything', () => {
    for (const event of [
      { action: 'remove', dir: '..' },
      { action: 'remove', dir: 'a/b' },
      { action: 'remove', dir: '' },
      { action: 'empty', dirs: ['../other/data'] },
      { action: 'empty', dirs: ['env'] },
      { action: 'empty', dirs: ['env/data/deeper'] },
      { action: 'claim', dir: 'env', tags: {}, extra: true },
      { action: 'format' },
    ])
      expect(janitorRequest.safeParse(event).success, JSON.stringify(event)).toBe(false);
    expect(janitorRequest.parse({ action: 'empty', dirs: ['env-1/data'] })).toEqual({
      action: 'empty',
      dirs: ['env-1/data'],
    });
  });

  it('empties a volume without following a link out of it', async () => {
    const outside = join(root, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep'), 'x');
    const mount = join(root, 'mount');
    await mkdir(join(mount, 'env/data/sub'), { recursive: true });
    await writeFile(join(mount, 'env/data/sub/file'), 'x');
    await symlink(outside, join(mount, 'env/data/link'));
    const janitor = new FileJanitor(mount);

    await janitor.run(janitorRequest.parse({ action: 'empty', dirs: ['env/data', 'env/missing'] }));

    expect(await readdir(join(mount, 'env/data'))).toEqual([]);
    expect(await readdir(outside)).toEqual(['keep']);
  });
});

describe('the janitor function, invoked', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());
  const janitor = () =>
    new LambdaVolumeJanitor({ lambda: new LambdaClient({ region: 'us-east-1' }), functionName: 'janitor' });

  it('is waited for, with the request as its event', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(null) });

    await janitor().remove('fix-login-pr42');

    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      action: 'remove',
      dir: 'fix-login-pr42',
    });
  });

  it('failing or timing out is transient, with its own words: the reconcile tries again', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 900.00 seconds' }),
    });

    const failed = janitor().empty(['fix-login-pr42/data']);

    await expect(failed).rejects.toThrow(TransientError);
    await expect(failed).rejects.toThrow(/Sandbox.Timedout: Task timed out/);
  });
});

const BOUNDARY = 'arn:aws:iam::123456789012:policy/matinee/test/matinee-test-preview-boundary';
/** IAM for every test here: one mock of the client class (a second would replace the first's stub). */
const iam = mockClient(IAMClient);
const roles = () =>
  new VolumeRoles({
    iam: new IAMClient({ region: 'us-east-1' }),
    stage: 'test',
    permissionsBoundaryArn: BOUNDARY,
  });

describe('access points on EFS', () => {
  const efs = mockClient(EFSClient);
  afterEach(() => {
    efs.reset();
    iam.reset();
  });
  const volumes = () =>
    new EfsVolumes({
      efs: new EFSClient({ region: 'us-east-1' }),
      fileSystemId: 'fs-1',
      stage: 'test',
      roles: roles(),
      janitor: {
        claim: async () => undefined,
        empty: async () => undefined,
        remove: async () => undefined,
        list: async () => [],
      },
    });

  it('at the file system’s quota: the environment fails saying which limit and what frees it', async () => {
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [] });
    efs.on(CreateAccessPointCommand).rejects(
      Object.assign(new Error('You have reached the maximum number of access points'), {
        name: 'AccessPointLimitExceeded',
      }),
    );

    const ensured = volumes().ensure(ref, [{ name: 'data', container: 'app', path: '/data' }]);

    await expect(ensured).rejects.toThrow(UserError);
    await expect(ensured).rejects.toThrow(/10,000 unless AWS raised the quota.*closing pull requests frees/);
  });

  it('empties and removes the environment’s own directory, named by its slug, never another’s', async () => {
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [] });
    const asked: unknown[] = [];
    const own = new EfsVolumes({
      efs: new EFSClient({ region: 'us-east-1' }),
      fileSystemId: 'fs-1',
      stage: 'test',
      roles: roles(),
      janitor: {
        claim: async () => undefined,
        empty: async (dirs) => void asked.push(['empty', dirs]),
        remove: async (dir) => void asked.push(['remove', dir]),
        list: async () => [],
      },
    });

    await own.empty(ref, ['data']);
    await own.remove(ref);

    expect(asked).toEqual([
      ['empty', ['fix-login-pr42/data']],
      ['remove', 'fix-login-pr42'],
    ]);
  });

  it('throttled on a burst of creations: transient, named, so the reconcile is retried with backoff', async () => {
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [] });
    efs
      .on(CreateAccessPointCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const ensured = volumes().ensure(ref, [{ name: 'data', container: 'app', path: '/data' }]);

    await expect(ensured).rejects.toThrow(TransientError);
    await expect(ensured).rejects.toThrow(
      /CreateAccessPoint \/test\/fix-login-pr42\/data: ThrottlingException/,
    );
  });
});

describe('an environment’s own role', () => {
  afterEach(() => iam.reset());
  const point = (id: string) => `arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/${id}`;
  const fileSystem = 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1';

  it('is named within IAM’s 64 characters, unique to stage and environment, under the stage’s path', () => {
    const long = environmentRef(
      { stage: 'a-very-long-stage-name-x', domain: 'preview.example.com' },
      { id: environmentId('acme/web', 7), slug: `${'b'.repeat(50)}-pr7`, host: 'h.preview.example.com' },
    );
    const name = volumeRoleName('a-very-long-stage-name-x', long);

    expect(name.length).toBeLessThanOrEqual(MAX_ROLE_NAME);
    expect(name).toMatch(/^matinee-a-very-long-stage-name-x-b+-[0-9a-f]{8}$/);
    expect(volumeRoleName('other', long)).not.toBe(name);
    expect(roles().arnOf(ref)).toBe(
      `arn:aws:iam::123456789012:role/matinee/test/${volumeRoleName('test', ref)}`,
    );
  });

  it('is made with the stage’s permissions boundary, its tags, and a policy naming only its access points', async () => {
    iam.on(CreateRoleCommand).resolves({});
    iam.on(PutRolePolicyCommand).resolves({});

    const arn = await roles().ensure(ref, fileSystem, [point('fsap-2'), point('fsap-1')]);

    const [create] = iam.commandCalls(CreateRoleCommand).map((call) => call.args[0].input);
    expect(create).toMatchObject({ Path: '/matinee/test/', PermissionsBoundary: BOUNDARY });
    expect(create?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'matinee:environment', Value: 'acme/web:42' }]),
    );
    const [put] = iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input);
    expect(JSON.parse(put?.PolicyDocument ?? '')).toEqual(
      volumeRolePolicy(fileSystem, [point('fsap-1'), point('fsap-2')]),
    );
    expect(arn).toBe(roles().arnOf(ref));
  });

  it('just made and not yet visible to IAM: transient, so the reconcile is retried rather than failed', async () => {
    iam.on(CreateRoleCommand).resolves({});
    iam
      .on(PutRolePolicyCommand)
      .rejects(Object.assign(new Error('The role cannot be found'), { name: 'NoSuchEntityException' }));

    await expect(roles().ensure(ref, fileSystem, [point('fsap-1')])).rejects.toThrow(TransientError);
  });

  it('admits its environment only while its policy names exactly the access points it has', async () => {
    const stored = encodeURIComponent(JSON.stringify(volumeRolePolicy(fileSystem, [point('fsap-1')])));
    iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: stored });

    expect(await roles().admitting(ref, fileSystem, [point('fsap-1')])).toBe(roles().arnOf(ref));
    expect(await roles().admitting(ref, fileSystem, [point('fsap-1'), point('fsap-9')])).toBeUndefined();
    iam
      .on(GetRolePolicyCommand)
      .rejects(Object.assign(new Error('no such role'), { name: 'NoSuchEntityException' }));
    expect(await roles().admitting(ref, fileSystem, [point('fsap-1')])).toBeUndefined();
  });
});

describe('an environment’s role that is not there', () => {
  afterEach(() => iam.reset());
  const denied = () =>
    Object.assign(new Error('not authorized to perform: iam:DeleteRole on resource: role x'), {
      name: 'AccessDenied',
    });

  it('is refused by IAM (outside the path), which counts as gone once the stage’s path agrees', async () => {
    iam.on(DeleteRolePolicyCommand).rejects(denied());
    iam.on(DeleteRoleCommand).rejects(denied());
    iam.on(ListRolesCommand).resolves({ Roles: [], IsTruncated: false });

    await roles().remove(ref);

    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
  });

  it('is still a refusal when the role is there: a missing grant is never taken for done', async () => {
    iam.on(DeleteRolePolicyCommand).rejects(denied());
    iam.on(ListRolesCommand).resolves({
      Roles: [
        {
          RoleName: volumeRoleName('test', ref),
          Path: '/matinee/test/',
          Arn: roles().arnOf(ref),
          RoleId: 'AROA',
          CreateDate: new Date(),
        },
      ],
      IsTruncated: false,
    });

    await expect(roles().remove(ref)).rejects.toThrow(/DeleteRolePolicy .*AccessDenied/);
  });
});

describe('a task definition’s volumes', () => {
  const spec = {
    revision: 'r1-vpending',
    volumes: [{ name: 'data', container: 'app', path: '/data' }],
  } as unknown as TaskSpec;

  it('are never registered before their access points exist', () => {
    expect(() => efsVolumes(spec, 'fs-1')).toThrow(/has no access point yet/);
    expect(efsVolumes({ ...spec, volumes: [] }, undefined)).toBeUndefined();
    expect(mountPoints(spec, 'db')).toBeUndefined();
  });
});

describe('the cost of volumes on the pull request', () => {
  it('quotes EFS Standard per GB-month stored, asleep or awake', () => {
    const body = renderComment({
      repo: 'acme/web',
      number: 42,
      environment: 'preview/pr-42',
      url: 'https://fix-login-pr42.preview.example.com',
      state: 'asleep',
      sha: 'a'.repeat(40),
      costSoFar: 1.5,
      costPerHour: 0.0123,
      costAt: '2026-11-02T14:05:00.000Z',
      spot: true,
      volumes: { count: 2, perGbMonth: EFS_STANDARD_GB_MONTH },
      key: 'k',
    });

    expect(body).toContain(
      '| Volumes | 2, kept until the pull request closes: $0.30 per GB-month stored, asleep or awake (EFS Standard, us-east-1) |',
    );
  });
});
