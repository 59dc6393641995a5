import { accessModes } from '../packages/core/src/access/mode.ts';
import { parseDuration } from '../packages/core/src/config/duration.ts';
import { fargateMemory } from '../packages/core/src/config/fargate.ts';
import { DEFAULT_PRICES, type FargatePrices } from '../packages/core/src/environment/cost.ts';
import { assertStage, domainRoomProblem, MAX_DOMAIN } from '../packages/core/src/environment/naming.ts';
import { MAX_AWAKE, MAX_AWAKE_REASON } from '../packages/core/src/limits/alb.ts';
import {
  DEFAULT_WAKE_LIMITS,
  formatRateLimit,
  parseRateLimit,
  RATE_LIMIT_RULE,
  type RateLimit,
  type WakeLimits,
} from '../packages/core/src/limits/rate-limit.ts';
import { type AccessInput, parseAccess } from './access.ts';
import { type EcrRepository, parseEcrRepositories } from './image-pulls.ts';
import { type PreviewEgress, parsePreviewEgress } from './preview-egress.ts';

/**
 * What the person deploying Matinee chooses, read from environment variables before any resource is declared.
 * Pure (no SST globals), so tests call it with their own environment.
 */
export interface StageInput {
  stage: string;
  /** Previews are `<slug>.<domain>`; the dashboard is the domain itself. Lowercase, no trailing dot. */
  domain: string;
  /** A Route 53 hosted zone for the records; without one, the records to create are printed instead. */
  hostedZone?: { id: string } | { name: string };
  /**
   * An existing VPC and its subnets (at least two, in different zones): public ones, or private ones for an
   * internal load balancer. Otherwise Matinee makes one.
   */
  vpc?: { id: string; subnetIds: string[] };
  /** Who may open previews, from where, and whether the load balancer is internal (in `vpc`'s private subnets). */
  access: AccessInput;
  /** Task size and idle timeout of an environment whose `.matinee.yml` says nothing. */
  defaults: { cpu: number; memory: number; idleSeconds: number };
  sweepSchedule: string;
  resyncSchedule: string;
  maxAwake: number;
  /** Fargate's prices per hour for the cost estimates on pull requests and the dashboard. */
  prices: FargatePrices;
  /** GitHub Enterprise Server's REST API; api.github.com when absent. */
  githubApiUrl?: string;
  /** How often a preview's public link may wake it (per client address, per preview) and retry it. */
  limits: WakeLimits;
  /** ECR repositories besides the stage's own that previews' images may come from (stacks/image-pulls.ts). */
  ecrRepositories: EcrRepository[];
  /** Where preview tasks may connect (stacks/preview-egress.ts). */
  previewEgress: PreviewEgress;
  /** Building images from source (`.matinee.yml` `build:`): the CodeBuild compute type. */
  build: { computeType: BuildComputeType };
}

/** CodeBuild's Linux compute types (BUILD_GENERAL1_2XLARGE needs the Linux standard images, which this is). */
export const BUILD_COMPUTE_TYPES = [
  'BUILD_GENERAL1_SMALL',
  'BUILD_GENERAL1_MEDIUM',
  'BUILD_GENERAL1_LARGE',
  'BUILD_GENERAL1_XLARGE',
  'BUILD_GENERAL1_2XLARGE',
] as const;
export type BuildComputeType = (typeof BUILD_COMPUTE_TYPES)[number];

/** The variables read, with what each means; the error message and the docs list them. */
export const VARIABLES = {
  MATINEE_DOMAIN: 'required: the domain previews live under, e.g. preview.example.com',
  MATINEE_HOSTED_ZONE: 'optional: Route 53 hosted zone id (Z…) or name that holds MATINEE_DOMAIN',
  MATINEE_VPC_ID: 'optional: an existing VPC (vpc-…); then MATINEE_SUBNET_IDS too',
  MATINEE_SUBNET_IDS:
    'with MATINEE_VPC_ID: comma-separated public subnets (subnet-…), at least two; private ones with MATINEE_INTERNAL=true',
  MATINEE_TASK_CPU: 'optional: default Fargate cpu units, 256 unless set',
  MATINEE_TASK_MEMORY: 'optional: default Fargate memory in MiB, 512 unless set',
  MATINEE_IDLE: 'optional: default idle timeout before an environment sleeps, 60m unless set',
  MATINEE_SWEEP_SCHEDULE: 'optional: EventBridge schedule of the sweep, rate(5 minutes) unless set',
  MATINEE_RESYNC_SCHEDULE: 'optional: EventBridge schedule of the resync, rate(1 hour) unless set',
  MATINEE_MAX_AWAKE:
    'optional: environments awake at once (1–99: one ALB target group each, and the wake function has the 100th), 90 unless set',
  MATINEE_FARGATE_PRICES: `optional: Fargate $/hour for cost estimates as vcpu,gb,spotVcpu,spotGb; ${Object.values(DEFAULT_PRICES).join(',')} (us-east-1) unless set`,
  MATINEE_GITHUB_API_URL:
    'optional: GitHub Enterprise Server REST API, e.g. https://github.example.com/api/v3',
  MATINEE_WAKES_PER_CLIENT: `optional: wakes one client address may cause through preview links, ${formatRateLimit(DEFAULT_WAKE_LIMITS.perClient)} unless set`,
  MATINEE_WAKES_PER_PREVIEW: `optional: wakes of one preview through its link, ${formatRateLimit(DEFAULT_WAKE_LIMITS.perPreview)} unless set`,
  MATINEE_RETRIES_PER_PREVIEW: `optional: retries of one failed preview from its page, ${formatRateLimit(DEFAULT_WAKE_LIMITS.retriesPerPreview)} unless set`,
  MATINEE_ECR_REPOSITORIES:
    "optional: comma-separated ECR repositories previews' images may come from besides the stage's own (matinee-<stage>, matinee-<stage>/*): names (web), prefixes (team/*) or repository ARNs",
  MATINEE_PREVIEW_EGRESS:
    'optional: where preview tasks may connect, all unless set, or comma-separated CIDR[:port] entries (port 443 is needed for image pulls and logs)',
  MATINEE_ACCESS: `optional: who may open a preview, one of ${accessModes.join(', ')}; link unless set`,
  MATINEE_ALLOW_CIDRS:
    'optional: comma-separated address ranges (203.0.113.0/24, 2001:db8::/32) the load balancer admits, previews and dashboard alike; any address unless set',
  MATINEE_BUILD_COMPUTE: `optional: the CodeBuild compute type images are built on (.matinee.yml build:), one of ${BUILD_COMPUTE_TYPES.join(', ')}; BUILD_GENERAL1_SMALL unless set`,
  MATINEE_INTERNAL:
    'optional: true puts the load balancer in MATINEE_SUBNET_IDS, private subnets of MATINEE_VPC_ID, reachable only from networks connected to that VPC; false unless set',
} as const;

export type VariableName = keyof typeof VARIABLES;

export class StageInputError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `Matinee cannot deploy with these settings:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A DNS name is at most 253 characters (a preview domain is held much shorter: see `domainRoomProblem`). */
const MAX_NAME = 253;

function domainName(value: string): string | undefined {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length > MAX_NAME || labels.length < 2 || !labels.every((part) => label.test(part)))
    return undefined;
  return name;
}

/** `rate(5 minutes)`, `rate(1 hour)` or a six-field `cron(...)`, as EventBridge rules accept them. */
export function isSchedule(value: string): boolean {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(value);
  if (rate) {
    const amount = Number(rate[1]);
    const plural = (rate[2] ?? '').endsWith('s');
    return amount >= 1 && plural === amount > 1;
  }
  const cron = /^cron\((.+)\)$/.exec(value);
  return Boolean(cron && (cron[1] ?? '').trim().split(/\s+/).length === 6);
}

/**
 * Reads and validates the stage's settings; every problem is named by its variable in one error, so one
 * failed `sst deploy` tells everything to fix.
 */
export function readStageInput(env: Record<string, string | undefined>, stage: string): StageInput {
  const problems: string[] = [];
  const get = (name: VariableName) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const integer = (name: VariableName, fallback: number, valid: (value: number) => boolean, rule: string) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!valid(value)) problems.push(`${name} must be ${rule}, not ${JSON.stringify(raw)}`);
    return value;
  };

  try {
    assertStage(stage);
  } catch (error) {
    problems.push(`the stage (--stage): ${error instanceof Error ? error.message : String(error)}`);
  }

  const rawDomain = get('MATINEE_DOMAIN');
  let domain = '';
  if (rawDomain === undefined) {
    problems.push(`MATINEE_DOMAIN is not set (${VARIABLES.MATINEE_DOMAIN})`);
  } else if (/^[a-z]+:\/\//i.test(rawDomain) || rawDomain.includes('/') || rawDomain.includes('*')) {
    problems.push(
      `MATINEE_DOMAIN must be a bare domain like preview.example.com (no scheme, path or *), not ${JSON.stringify(rawDomain)}`,
    );
  } else {
    const name = domainName(rawDomain);
    const room = name && domainRoomProblem(name);
    if (name && room) problems.push(`MATINEE_DOMAIN is too long: ${room}`);
    else if (name) domain = name;
    else
      problems.push(
        `MATINEE_DOMAIN must be a DNS name of at least two labels (a-z, 0-9, -) and at most ${MAX_DOMAIN} characters, not ${JSON.stringify(rawDomain)}`,
      );
  }

  let hostedZone: StageInput['hostedZone'];
  const zone = get('MATINEE_HOSTED_ZONE');
  if (zone !== undefined) {
    const id = /^(?:\/hostedzone\/)?(Z[A-Z0-9]{1,32})$/.exec(zone)?.[1];
    const name = id ? undefined : domainName(zone);
    if (id) hostedZone = { id };
    else if (!name)
      problems.push(
        `MATINEE_HOSTED_ZONE must be a Route 53 hosted zone id (Z…) or a zone name, not ${JSON.stringify(zone)}`,
      );
    else if (domain && domain !== name && !domain.endsWith(`.${name}`))
      problems.push(
        `MATINEE_HOSTED_ZONE ${name} cannot hold MATINEE_DOMAIN ${domain}: it is not the domain or a parent of it`,
      );
    else hostedZone = { name };
  }

  let vpc: StageInput['vpc'];
  const vpcId = get('MATINEE_VPC_ID');
  const subnetList = get('MATINEE_SUBNET_IDS');
  if (vpcId !== undefined) {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId))
      problems.push(`MATINEE_VPC_ID must look like vpc-0abc12345, not ${JSON.stringify(vpcId)}`);
    const subnetIds = (subnetList ?? '')
      .split(',')
      .map((subnet) => subnet.trim())
      .filter(Boolean);
    const malformed = subnetIds.filter((subnet) => !/^subnet-[0-9a-f]{8,17}$/.test(subnet));
    if (subnetIds.length < 2)
      problems.push(
        'MATINEE_SUBNET_IDS must list at least two public subnets of MATINEE_VPC_ID (in different availability zones), comma-separated',
      );
    else if (malformed.length)
      problems.push(`MATINEE_SUBNET_IDS has malformed subnet ids: ${malformed.join(', ')}`);
    else if (new Set(subnetIds).size !== subnetIds.length)
      problems.push('MATINEE_SUBNET_IDS lists a subnet twice');
    vpc = { id: vpcId, subnetIds };
  } else if (subnetList !== undefined) {
    problems.push(
      'MATINEE_SUBNET_IDS is set without MATINEE_VPC_ID: set both, or neither to let Matinee create a VPC',
    );
  }

  const cpu = integer(
    'MATINEE_TASK_CPU',
    256,
    (value) => value in fargateMemory,
    `one of Fargate's cpu sizes (${Object.keys(fargateMemory).join(', ')})`,
  );
  const memory = integer('MATINEE_TASK_MEMORY', 512, Number.isInteger, 'a whole number of MiB');
  const fits = fargateMemory[cpu];
  if (fits && Number.isInteger(memory) && !fits(memory))
    problems.push(
      `MATINEE_TASK_MEMORY ${memory} MiB is not a valid Fargate memory size for MATINEE_TASK_CPU ${cpu}`,
    );

  const idleText = get('MATINEE_IDLE') ?? '60m';
  const idleSeconds = parseDuration(idleText) ?? 0;
  if (idleSeconds < 60)
    problems.push(
      `MATINEE_IDLE must be a duration of at least a minute like 20m, 1h or 1h30m, not ${JSON.stringify(idleText)}`,
    );

  const schedule = (name: 'MATINEE_SWEEP_SCHEDULE' | 'MATINEE_RESYNC_SCHEDULE', fallback: string) => {
    const value = get(name) ?? fallback;
    if (!isSchedule(value))
      problems.push(
        `${name} must be an EventBridge schedule like rate(5 minutes), rate(1 hour) or cron(0 * * * ? *), not ${JSON.stringify(value)}`,
      );
    return value;
  };
  const sweepSchedule = schedule('MATINEE_SWEEP_SCHEDULE', 'rate(5 minutes)');
  const resyncSchedule = schedule('MATINEE_RESYNC_SCHEDULE', 'rate(1 hour)');

  const maxAwake = integer(
    'MATINEE_MAX_AWAKE',
    90,
    (value) => Number.isInteger(value) && value >= 1 && value <= MAX_AWAKE,
    `a whole number from 1 to ${MAX_AWAKE} (${MAX_AWAKE_REASON})`,
  );

  let prices = DEFAULT_PRICES;
  const priceList = get('MATINEE_FARGATE_PRICES');
  if (priceList !== undefined) {
    const values = priceList.split(',').map((value) => value.trim());
    const numbers = values.map((value) => (/^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN));
    if (numbers.length !== 4 || !numbers.every((value) => value > 0))
      problems.push(
        `MATINEE_FARGATE_PRICES must be four positive dollar amounts per hour, vcpu,gb,spotVcpu,spotGb (e.g. ${Object.values(DEFAULT_PRICES).join(',')}), not ${JSON.stringify(priceList)}`,
      );
    else {
      const [vcpuHour, gbHour, spotVcpuHour, spotGbHour] = numbers as [number, number, number, number];
      prices = { vcpuHour, gbHour, spotVcpuHour, spotGbHour };
    }
  }

  const githubApiUrl = get('MATINEE_GITHUB_API_URL');
  if (githubApiUrl !== undefined && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(githubApiUrl))
    problems.push(`MATINEE_GITHUB_API_URL must be an https URL, not ${JSON.stringify(githubApiUrl)}`);

  const limit = (name: VariableName, fallback: RateLimit) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = parseRateLimit(raw);
    if (!value) problems.push(`${name} must be ${RATE_LIMIT_RULE}, not ${JSON.stringify(raw)}`);
    return value ?? fallback;
  };
  const limits: WakeLimits = {
    perClient: limit('MATINEE_WAKES_PER_CLIENT', DEFAULT_WAKE_LIMITS.perClient),
    perPreview: limit('MATINEE_WAKES_PER_PREVIEW', DEFAULT_WAKE_LIMITS.perPreview),
    retriesPerPreview: limit('MATINEE_RETRIES_PER_PREVIEW', DEFAULT_WAKE_LIMITS.retriesPerPreview),
  };

  const ecr = parseEcrRepositories(get('MATINEE_ECR_REPOSITORIES'));
  problems.push(...ecr.problems);
  const egress = parsePreviewEgress(get('MATINEE_PREVIEW_EGRESS'));
  problems.push(...egress.problems);
  const access = parseAccess(
    {
      mode: get('MATINEE_ACCESS'),
      allowCidrs: get('MATINEE_ALLOW_CIDRS'),
      internal: get('MATINEE_INTERNAL'),
    },
    { ownVpc: vpc !== undefined, env, stage },
  );
  problems.push(...access.problems);

  const computeType = get('MATINEE_BUILD_COMPUTE') ?? 'BUILD_GENERAL1_SMALL';
  const buildCompute = BUILD_COMPUTE_TYPES.find((type) => type === computeType.toUpperCase());
  if (!buildCompute)
    problems.push(
      `MATINEE_BUILD_COMPUTE must be one of ${BUILD_COMPUTE_TYPES.join(', ')}, not ${JSON.stringify(computeType)}`,
    );

  if (problems.length) throw new StageInputError(problems);
  return {
    stage,
    domain,
    hostedZone,
    vpc,
    defaults: { cpu, memory, idleSeconds },
    sweepSchedule,
    resyncSchedule,
    maxAwake,
    prices,
    githubApiUrl: githubApiUrl?.replace(/\/+$/, ''),
    limits,
    ecrRepositories: ecr.repositories,
    previewEgress: egress.egress,
    access: access.access,
    build: { computeType: buildCompute ?? 'BUILD_GENERAL1_SMALL' },
  };
}
