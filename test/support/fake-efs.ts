import {
  AccessPointNotFound,
  CreateAccessPointCommand,
  type CreateAccessPointCommandInput,
  DeleteAccessPointCommand,
  DescribeAccessPointsCommand,
  EFSClient,
  type Tag,
} from '@aws-sdk/client-efs';
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

/**
 * A stateful fake of EFS access points and of the janitor function behind real SDK clients (their `send`
 * stubbed), for lifecycles on the fake AWS: access points made, paged, tagged and deleted as EFS does;
 * the janitor's invocations parsed as the function parses them and kept as the directories they touch.
 */
export class FakeEfs {
  readonly fileSystemId = 'fs-0123456789abcdef0';
  readonly janitorFunction = 'matinee-test-MatineeVolumeJanitorFunction';
  readonly accessPoints = new Map<string, AccessPoint>();
  /** Environment directories the janitor holds (claimed, not yet removed). */
  readonly directories = new Set<string>();
  readonly janitorCalls: string[] = [];
  readonly clients = { efs: new EFSClient({ region: REGION }), lambda: new LambdaClient({ region: REGION }) };
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
