import {
  AccessPointNotFound,
  CreateAccessPointCommand,
  type CreateAccessPointCommandInput,
  DeleteAccessPointCommand,
  DescribeAccessPointsCommand,
  EFSClient,
  type Tag,
} from '@aws-sdk/client-efs';
import {
  CreateRoleCommand,
  type CreateRoleCommandInput,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRolePolicyCommand,
  IAMClient,
  ListRolesCommand,
  ListRoleTagsCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type Tag as RoleTag,
} from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { janitorRequest } from '@matinee/aws';
import { mockClient } from 'aws-sdk-client-mock';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
/** Like EFS: DescribeAccessPoints answers in pages. */
const PAGE = 2;

interface AccessPoint {
  id: string;
  input: CreateAccessPointCommandInput;
  tags: Tag[];
}

/** An environment's own role, as IAM keeps it. */
interface Role {
  input: CreateRoleCommandInput;
  arn: string;
  tags: RoleTag[];
  /** Inline policies by name, as given (IAM hands them back URL-encoded). */
  policies: Map<string, string>;
}

const noSuchEntity = (what: string) =>
  new NoSuchEntityException({ message: `The role ${what} cannot be found.`, $metadata: {} });

/**
 * A stateful fake of EFS access points, of the janitor function and of the environments' IAM roles behind
 * real SDK clients (their `send` stubbed), for lifecycles on the fake AWS: access points made, paged, tagged
 * and deleted as EFS does; the janitor's invocations parsed as the function parses them and kept as the
 * directories they touch; roles made (only with the boundary, as the control plane's policy demands), given
 * policies, listed by path and deleted (only without policies) as IAM does.
 */
export class FakeEfs {
  readonly fileSystemId = 'fs-0123456789abcdef0';
  readonly janitorFunction = 'matinee-test-MatineeVolumeJanitorFunction';
  readonly accessPoints = new Map<string, AccessPoint>();
  /** Environment directories the janitor holds (claimed, not yet removed). */
  readonly directories = new Set<string>();
  readonly janitorCalls: string[] = [];
  readonly roleBoundaryArn = `arn:aws:iam::${ACCOUNT}:policy/matinee/test/matinee-test-preview-volumes`;
  readonly roles = new Map<string, Role>();
  readonly clients = {
    efs: new EFSClient({ region: REGION }),
    lambda: new LambdaClient({ region: REGION }),
    iam: new IAMClient({ region: REGION }),
  };
  private serial = 0;

  constructor() {
    const efs = mockClient(this.clients.efs);
    efs.on(CreateAccessPointCommand).callsFake((input: CreateAccessPointCommandInput) => {
      if (input.FileSystemId !== this.fileSystemId) throw new Error(`no file system ${input.FileSystemId}`);
      const id = `fsap-${(++this.serial).toString(16).padStart(17, '0')}`;
      this.accessPoints.set(id, { id, input, tags: input.Tags ?? [] });
      return { AccessPointId: id, AccessPointArn: this.arnOf(id), LifeCycleState: 'available' };
    });
    efs.on(DescribeAccessPointsCommand).callsFake((input: { FileSystemId?: string; NextToken?: string }) => {
      const all = [...this.accessPoints.values()].filter((p) => p.input.FileSystemId === input.FileSystemId);
      const start = Number(input.NextToken ?? 0);
      const page = all.slice(start, start + PAGE);
      return {
        AccessPoints: page.map((p) => ({
          AccessPointId: p.id,
          AccessPointArn: this.arnOf(p.id),
          FileSystemId: p.input.FileSystemId,
          PosixUser: p.input.PosixUser,
          RootDirectory: p.input.RootDirectory,
          Tags: p.tags,
          LifeCycleState: 'available',
        })),
        NextToken: start + PAGE < all.length ? String(start + PAGE) : undefined,
      };
    });
    efs.on(DeleteAccessPointCommand).callsFake((input: { AccessPointId: string }) => {
      if (!this.accessPoints.delete(input.AccessPointId))
        throw new AccessPointNotFound({
          message: 'not found',
          $metadata: {},
          ErrorCode: 'AccessPointNotFound',
        });
      return {};
    });

    const lambda = mockClient(this.clients.lambda);
    lambda.on(InvokeCommand).callsFake((input: { FunctionName?: string; Payload?: Uint8Array }) => {
      if (input.FunctionName !== this.janitorFunction) throw new Error(`no function ${input.FunctionName}`);
      const request = janitorRequest.parse(JSON.parse(new TextDecoder().decode(input.Payload)));
      this.janitorCalls.push(request.action);
      let answer: unknown = null;
      if (request.action === 'claim') this.directories.add(request.dir);
      if (request.action === 'remove') this.directories.delete(request.dir);
      if (request.action === 'list') answer = [...this.directories].map((dir) => ({ dir, tags: {} }));
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(answer)) };
    });
    this.fakeIam();
  }

  private fakeIam(): void {
    const iam = mockClient(this.clients.iam);
    iam.on(CreateRoleCommand).callsFake((input: CreateRoleCommandInput) => {
      const name = input.RoleName ?? '';
      if (this.roles.has(name))
        throw new EntityAlreadyExistsException({ message: `Role ${name} exists`, $metadata: {} });
      if (input.PermissionsBoundary !== this.roleBoundaryArn)
        throw new Error(`CreateRole ${name} without the stage's permissions boundary`);
      const arn = `arn:aws:iam::${ACCOUNT}:role${input.Path ?? '/'}${name}`;
      this.roles.set(name, { input, arn, tags: input.Tags ?? [], policies: new Map() });
      return { Role: { RoleName: name, Arn: arn, Path: input.Path, RoleId: name, CreateDate: new Date() } };
    });
    const role = (name: string | undefined) => {
      const found = this.roles.get(name ?? '');
      if (!found) throw noSuchEntity(name ?? '');
      return found;
    };
    iam.on(PutRolePolicyCommand).callsFake((input) => {
      role(input.RoleName).policies.set(input.PolicyName ?? '', input.PolicyDocument ?? '');
      return {};
    });
    iam.on(GetRolePolicyCommand).callsFake((input) => {
      const document = role(input.RoleName).policies.get(input.PolicyName ?? '');
      if (document === undefined) throw noSuchEntity(`policy ${input.PolicyName}`);
      return {
        RoleName: input.RoleName,
        PolicyName: input.PolicyName,
        PolicyDocument: encodeURIComponent(document),
      };
    });
    iam.on(DeleteRolePolicyCommand).callsFake((input) => {
      if (!role(input.RoleName).policies.delete(input.PolicyName ?? ''))
        throw noSuchEntity(`policy ${input.PolicyName}`);
      return {};
    });
    iam.on(DeleteRoleCommand).callsFake((input) => {
      if (role(input.RoleName).policies.size)
        throw new Error(`DeleteConflict: ${input.RoleName} has policies`);
      this.roles.delete(input.RoleName ?? '');
      return {};
    });
    iam.on(ListRolesCommand).callsFake((input) => ({
      Roles: [...this.roles.values()]
        .filter((r) => (r.input.Path ?? '/').startsWith(input.PathPrefix ?? '/'))
        .map((r) => ({ RoleName: r.input.RoleName, Arn: r.arn, Path: r.input.Path })),
      IsTruncated: false,
    }));
    iam.on(ListRoleTagsCommand).callsFake((input) => ({ Tags: role(input.RoleName).tags }));
  }

  arnOf(id: string): string {
    return `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:access-point/${id}`;
  }

  get fileSystemArn(): string {
    return `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/${this.fileSystemId}`;
  }

  get janitorArn(): string {
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${this.janitorFunction}`;
  }
}
