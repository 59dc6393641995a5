import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Runs the real sst.config.ts `run()` the way `sst deploy` does, with SST's own platform (.sst/platform, made
 * by `npm run sst:install`) and Pulumi's mocks instead of AWS:
 *
 * - `sst deploy` bundles sst.config.ts with esbuild, defining `$app`, `$cli` and `$dev`, injecting
 *   platform/src/shim/run.js (`$config`, `$interpolate`, `$resolve`, `$jsonStringify`, `$util`, …) and
 *   importing the providers (`aws`) and the components (`sst`) as globals, then calls platform/src/auto/run.ts
 *   `run(mod.run)` inside a Pulumi program. Here the same globals go on `globalThis` and the same `run` runs
 *   inside `runtime.runInPulumiStack`, with `runtime.setMocks` answering resources and data sources.
 * - Components talk to the SST CLI over HTTP (`SST_SERVER`): `Provider.Aws.Bootstrap` for the asset bucket
 *   and `Runtime.Build` to bundle a function. A small server here answers both; a build returns an empty
 *   bundle and records what SST asked to build (handler, runtime, architecture, links).
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const PLATFORM = path.join(ROOT, '.sst', 'platform');
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

// biome-ignore lint/suspicious/noExplicitAny: resource inputs and state are whatever each provider defines
type Props = Record<string, any>;

export interface Registered {
  type: string;
  name: string;
  /** The physical id (`sg-…`, `vpc-…`) of a custom resource. */
  id?: string;
  inputs: Props;
  state: Props;
}

export interface Build {
  functionID: string;
  handler: string;
  runtime: string;
  architecture?: string;
  /** `nodejs.plugins`: the esbuild plugins file SST bundles the handler with. */
  plugins?: string;
  links: Record<string, Props>;
}

export interface Deployment {
  resources: Registered[];
  outputs: Props;
  builds: Build[];
  calls: { token: string; inputs: Props }[];
  logs: string[];
}

export function platformInstalled(): boolean {
  return existsSync(path.join(PLATFORM, 'src', 'components', 'index.ts'));
}

const hash = (value: string, length = 16) =>
  createHash('sha256').update(value).digest('hex').slice(0, length);

/** What AWS would report for a new resource: its physical name, ARN and the attributes the stacks read. */
function created(type: string, name: string, inputs: Props): Props {
  const id = hash(`${type}|${name}`);
  const physical: string = inputs.name ?? `${name}-${id.slice(0, 7)}`;
  const arn = (service: string, resource: string, region = REGION) =>
    `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (type) {
    case 'aws:ecs/cluster:Cluster':
      return { name: physical, arn: arn('ecs', `cluster/${physical}`) };
    case 'aws:lb/loadBalancer:LoadBalancer': {
      const suffix = `app/${physical}/${id}`;
      return {
        name: physical,
        arn: arn('elasticloadbalancing', `loadbalancer/${suffix}`),
        arnSuffix: suffix,
        dnsName: `${physical}-${id.slice(0, 9)}.${REGION}.elb.amazonaws.com`,
        zoneId: 'Z35SXDOTRQ7X7K',
      };
    }
    case 'aws:lb/listener:Listener':
      return { arn: `${String(inputs.loadBalancerArn).replace(':loadbalancer/', ':listener/')}/${id}` };
    case 'aws:lb/targetGroup:TargetGroup':
      return {
        name: physical,
        arn: arn('elasticloadbalancing', `targetgroup/${physical}/${id}`),
        arnSuffix: `targetgroup/${physical}/${id}`,
      };
    case 'aws:acm/certificate:Certificate':
      return {
        arn: arn('acm', `certificate/${id}`),
        domainValidationOptions: [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])].map(
          (domainName: string) => ({
            domainName,
            resourceRecordName: `_${hash(inputs.domainName, 32)}.${String(domainName).replace(/^\*\./, '')}.`,
            resourceRecordType: 'CNAME',
            resourceRecordValue: `_${hash(`v|${inputs.domainName}`, 32)}.acm-validations.aws.`,
          }),
        ),
      };
    case 'aws:acm/certificateValidation:CertificateValidation':
      return { certificateArn: inputs.certificateArn };
    case 'aws:route53/record:Record':
      return { fqdn: String(inputs.name).replace(/\.$/, '') };
    case 'aws:dynamodb/table:Table':
      return { name: physical, arn: arn('dynamodb', `table/${physical}`) };
    case 'aws:cloudwatch/eventBus:EventBus':
      return { name: physical, arn: arn('events', `event-bus/${physical}`) };
    case 'aws:cloudwatch/eventRule:EventRule':
      return {
        name: physical,
        arn: arn('events', `rule/${inputs.eventBusName ? `${inputs.eventBusName}/` : ''}${physical}`),
      };
    case 'aws:sqs/queue:Queue':
      return {
        name: physical,
        arn: arn('sqs', physical),
        url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
      };
    case 'aws:iam/role:Role':
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` };
    case 'aws:ecr/repository:Repository':
      return {
        name: physical,
        arn: arn('ecr', `repository/${physical}`),
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}`,
        registryId: ACCOUNT,
      };
    case 'aws:s3/bucket:Bucket': {
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? `${name.toLowerCase()}-`}${id.slice(0, 12)}`;
      return { bucket, id: bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case 'aws:codebuild/project:Project':
      return { name: physical, arn: arn('codebuild', `project/${physical}`) };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { name: physical, arn: arn('logs', `log-group:${physical}`) };
    case 'aws:lambda/function:Function': {
      const functionArn = arn('lambda', `function:${physical}`);
      return {
        name: physical,
        arn: functionArn,
        qualifiedArn: `${functionArn}:$LATEST`,
        version: '$LATEST',
        invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
      };
    }
    case 'aws:lambda/functionUrl:FunctionUrl':
      return { functionUrl: `https://${id}.lambda-url.${REGION}.on.aws/` };
    case 'aws:ec2/vpc:Vpc':
      return { arn: arn('ec2', `vpc/vpc-${id}`), cidrBlock: inputs.cidrBlock ?? '10.0.0.0/16' };
    case 'aws:efs/fileSystem:FileSystem':
      return { arn: arn('elasticfilesystem', `file-system/${physicalId(type, name, inputs)}`) };
    case 'aws:efs/accessPoint:AccessPoint':
      return { arn: arn('elasticfilesystem', `access-point/${physicalId(type, name, inputs)}`) };
    case 'random:index/randomBytes:RandomBytes': {
      const bytes = createHash('sha256')
        .update(name)
        .digest()
        .subarray(0, inputs.length ?? 32);
      return { base64: bytes.toString('base64'), hex: bytes.toString('hex') };
    }
    default:
      return { name: physical, arn: arn(type.split(':')[1]?.split('/')[0] ?? 'unknown', `${name}/${id}`) };
  }
}

function physicalId(type: string, name: string, inputs: Props): string {
  const id = hash(`${type}|${name}`, 17);
  if (type === 'aws:ec2/vpc:Vpc') return `vpc-${id}`;
  if (type === 'aws:ec2/subnet:Subnet') return `subnet-${id}`;
  if (type.startsWith('aws:ec2/') && type.endsWith('ecurityGroup')) return `sg-${id}`;
  if (type === 'aws:efs/fileSystem:FileSystem') return `fs-${id}`;
  if (type === 'aws:efs/accessPoint:AccessPoint') return `fsap-${id}`;
  if (type === 'aws:s3/bucket:Bucket') return created(type, name, inputs).bucket;
  return `${name}-id`;
}

/** IAM JSON for `aws.iam.getPolicyDocument`'s statements, as the provider would render it. */
function policyDocument(statements: Props[] = []): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      ...(s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? 'Allow',
      ...(s.actions ? { Action: s.actions } : {}),
      ...(s.notActions ? { NotAction: s.notActions } : {}),
      ...(s.resources ? { Resource: s.resources } : {}),
      ...(s.principals
        ? {
            Principal: Object.fromEntries(
              s.principals.map((p: Props) => [
                p.type,
                p.identifiers.length === 1 ? p.identifiers[0] : p.identifiers,
              ]),
            ),
          }
        : {}),
      ...(s.conditions
        ? {
            Condition: s.conditions.reduce((all: Props, c: Props) => {
              all[c.test] = { ...all[c.test], [c.variable]: c.values };
              return all;
            }, {}),
          }
        : {}),
    })),
  });
}

function dataSource(token: string, inputs: Props): Props {
  switch (token) {
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws' };
    case 'aws:index/getRegion:getRegion':
      return { region: REGION, name: REGION, id: REGION };
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return {
        accountId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:user/deployer`,
        userId: 'AIDA',
        id: ACCOUNT,
      };
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return {
        names: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
        zoneIds: ['use1-az1', 'use1-az2', 'use1-az4'],
      };
    case 'aws:iam/getPolicyDocument:getPolicyDocument':
      return { ...inputs, json: policyDocument(inputs.statements), id: 'policy' };
    case 'aws:route53/getZone:getZone':
      return { zoneId: 'ZMATINEEZONE', name: inputs.name, id: 'ZMATINEEZONE' };
    default:
      return inputs;
  }
}

/** Stands in for the SST CLI's RPC server. */
async function sstServer(work: string, builds: Build[]) {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: Props[] };
      const args = params[0] ?? {};
      const reply = (payload: Props) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(payload));
      };
      if (method === 'Provider.Aws.Bootstrap') {
        return reply({
          result: {
            asset: 'sst-asset-bucket',
            assetEcrRegistryId: ACCOUNT,
            assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
            state: 'sst-state-bucket',
            appsyncHttp: '',
            appsyncRealtime: '',
          },
        });
      }
      if (method === 'Runtime.Build') {
        builds.push({
          functionID: args.functionID,
          handler: args.handler,
          runtime: args.runtime,
          architecture: args.properties?.architecture,
          plugins: args.properties?.plugins,
          links: args.links ?? {},
        });
        const out = path.join(work, 'builds', args.functionID);
        await mkdir(out, { recursive: true });
        await writeFile(path.join(out, 'index.mjs'), 'export const handler = () => {};\n');
        return reply({ result: { handler: 'index.handler', out, errors: [], sourcemaps: [] } });
      }
      reply({ error: `rpc: can't find method ${method}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * Runs sst.config.ts for `stage` with `env` (the MATINEE_* variables) and `secrets` (what `sst secret set`
 * would hold), and returns every resource it declared. One deployment per test file: Pulumi's runtime and
 * SST's component registry are process-wide.
 */
export async function deploy(options: {
  stage: string;
  env: Record<string, string>;
  secrets?: Record<string, string>;
}): Promise<Deployment> {
  const resources: Registered[] = [];
  const builds: Build[] = [];
  const calls: Deployment['calls'] = [];
  const logs: string[] = [];
  const work = await mkdtemp(path.join(tmpdir(), 'matinee-sst-'));
  const server = await sstServer(work, builds);

  for (const [key, value] of Object.entries(options.env)) process.env[key] = value;
  for (const [key, value] of Object.entries(options.secrets ?? {})) process.env[`SST_SECRET_${key}`] = value;
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SST_AWS_REGION = REGION;

  const require = createRequire(path.join(PLATFORM, 'package.json'));
  const pulumi = require('@pulumi/pulumi');
  await pulumi.runtime.setMocks(
    {
      newResource(args: { type: string; name: string; inputs: Props; custom?: boolean }) {
        // Inputs are echoed as outputs; what AWS would compute fills in the rest.
        const inputs = unsecret(args.inputs) as Props;
        const state = args.custom
          ? { ...created(args.type, args.name, inputs), ...args.inputs }
          : args.inputs;
        const id = args.custom ? physicalId(args.type, args.name, inputs) : undefined;
        resources.push({ type: args.type, name: args.name, id, inputs, state: unsecret(state) as Props });
        return { id, state };
      },
      call(args: { token: string; inputs: Props }) {
        calls.push({ token: args.token, inputs: args.inputs });
        return dataSource(args.token, args.inputs);
      },
    },
    'matinee',
    options.stage,
    false,
  );

  const app = {
    name: 'matinee',
    stage: options.stage,
    removal: options.stage === 'production' ? 'retain' : 'remove',
    providers: { aws: { version: '7.20.0' } },
    protect: false,
  };
  const globals = globalThis as Record<string, unknown>;
  // esbuild `define`s of `sst deploy`.
  globals.$app = app;
  globals.$dev = false;
  globals.$cli = {
    command: 'deploy',
    dev: false,
    paths: { home: path.join(work, 'home'), root: ROOT, work, platform: PLATFORM },
    state: { version: {} },
  };
  const load = (file: string) => import(pathToFileURL(path.join(PLATFORM, file)).href);
  // esbuild `inject` of platform/src/shim/run.js: `$config`, `$interpolate`, `$resolve`, `$util`, …
  Object.assign(globals, await load('src/shim/run.js'));
  // The provider and component globals.
  globals.aws = require('@pulumi/aws');
  globals.sst = await load('src/components/index.ts');

  const config = (await import(pathToFileURL(path.join(ROOT, 'sst.config.ts')).href)).default as {
    app(input: { stage: string }): Props;
    run(): Promise<Props>;
  };
  const declared = config.app({ stage: options.stage });
  if (
    JSON.stringify(declared.providers) !== JSON.stringify(app.providers) ||
    declared.removal !== app.removal
  )
    throw new Error(`sst.config.ts app() changed: ${JSON.stringify(declared)}; update the harness's $app`);
  const { run } = await load('src/auto/run.ts');

  const log = console.log;
  console.log = (...args: unknown[]) => {
    logs.push(args.map(String).join(' '));
  };
  let outputs: Props = {};
  try {
    const stackOutputs = await pulumi.runtime.runInPulumiStack(() => run(config.run));
    // Everything declared inside `apply` callbacks registers after the program returns: wait for it.
    await pulumi.runtime.disconnect();
    outputs = await new Promise<Props>((resolve) => pulumi.output(stackOutputs ?? {}).apply(resolve));
  } finally {
    console.log = log;
    server.close();
  }
  return { resources, outputs, builds, calls, logs };
}

/** Every resource of `type`, by logical name. */
export function ofType(deployment: Deployment, type: string): Registered[] {
  return deployment.resources.filter((resource) => resource.type === type);
}

/** The control plane's functions, which read the stage settings: every one but the volume janitor. */
export function controlPlane(d: Deployment): Deployment['builds'] {
  return d.builds.filter((b) => b.functionID !== 'MatineeVolumeJanitor');
}

export function one(deployment: Deployment, type: string, name: string): Registered {
  const found = deployment.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found) {
    const names = ofType(deployment, type).map((resource) => resource.name);
    throw new Error(`no ${type} named ${name}; there are: ${names.join(', ') || 'none'}`);
  }
  return found;
}

/** A Pulumi secret as the mocks hand it over: `{ <sig>: <secret sig>, value }`. */
function unsecret(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unsecret);
  if (value && typeof value === 'object') {
    const record = value as Props;
    if (record['4dabf18193072939515e22adb298388d'] === '1b47061264138c4ac30d75fd1eb44270')
      return unsecret(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, unsecret(inner)]));
  }
  return value;
}

/** Every linkable of the app, by name, with the properties (and `type`) a linked function gets. */
export function linkables(deployment: Deployment): Record<string, Props> {
  const result: Record<string, Props> = {};
  for (const ref of ofType(deployment, 'sst:sst:LinkRef')) {
    const name = ref.name.replace(/LinkRef$/, '');
    const target = deployment.resources.find((r) => r.name === name && r.type.startsWith('sst:'));
    if (!target) throw new Error(`link ${name} has no component`);
    result[name] = { ...(unsecret(ref.inputs.properties) as Props), type: target.type.replaceAll(':', '.') };
  }
  return result;
}

/** TypeScript SST's CLI writes for `properties` (pkg/types/typescript: sorted keys, arrays are `any`). */
function infer(input: Props, indent: string): string {
  const lines = Object.keys(input)
    .sort()
    .map((key) => {
      const value = input[key];
      const type =
        key === 'type' && typeof value === 'string'
          ? JSON.stringify(value)
          : typeof value === 'string'
            ? 'string'
            : typeof value === 'number'
              ? 'number'
              : typeof value === 'boolean'
                ? 'boolean'
                : value && typeof value === 'object' && !Array.isArray(value)
                  ? infer(value, `${indent}  `)
                  : 'any';
      return `${indent}  "${key}": ${type}\n`;
    });
  return `{\n${lines.join('')}${indent}}`;
}

/** The root sst-env.d.ts `sst deploy` generates for this app's links. */
export function sstEnv(deployment: Deployment): string {
  return [
    '/* This file is auto-generated by SST. Do not edit. */',
    '/* tslint:disable */',
    '/* eslint-disable */',
    '/* deno-fmt-ignore-file */',
    '/* biome-ignore-all lint: auto-generated */',
    '',
    'declare module "sst" {',
    `  export interface Resource ${infer(linkables(deployment), '  ')}`,
    '}',
    '',
    'import "sst"',
    'export {}',
  ].join('\n');
}

/** Every IAM policy document in the deployment: role inline and trust policies, queue policies. */
export function policies(deployment: Deployment): { resource: string; kind: string; document: Props }[] {
  const found: { resource: string; kind: string; document: Props }[] = [];
  const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value) as Props;
  for (const r of deployment.resources) {
    if (r.inputs.assumeRolePolicy)
      found.push({ resource: r.name, kind: 'trust', document: parse(r.inputs.assumeRolePolicy) });
    for (const inline of r.inputs.inlinePolicies ?? [])
      found.push({ resource: r.name, kind: `inline ${inline.name}`, document: parse(inline.policy) });
    // Not an ECR lifecycle policy: its `policy` is rules, not IAM.
    if (r.inputs.policy && r.type !== 'aws:ecr/lifecyclePolicy:LifecyclePolicy')
      found.push({ resource: r.name, kind: 'resource', document: parse(r.inputs.policy) });
  }
  return found;
}
