import type { StageSettings } from '../../functions/lib/settings.ts';

export const STAGE: StageSettings = {
  stage: 'test',
  domain: 'preview.example.com',
  region: 'us-east-1',
  cluster: { name: 'matinee-test', arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/matinee-test' },
  loadBalancer: {
    fullName: 'app/matinee-test/50dc6c495c0c9188',
    listenerArn:
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/matinee-test/50dc6c495c0c9188/f2f7dc8efc522ab2',
  },
  network: {
    vpcId: 'vpc-0a1b2c3d',
    subnets: ['subnet-0a', 'subnet-0b'],
    securityGroups: ['sg-0task'],
    assignPublicIp: true,
  },
  roles: {
    executionRoleArn: 'arn:aws:iam::123456789012:role/matinee-test-execution',
    taskRoleArn: 'arn:aws:iam::123456789012:role/matinee-test-task',
  },
  logGroup: '/matinee/test/previews',
  // Public: the tests of everything but access control open previews without their link.
  access: { mode: 'public' },
  maxAwake: 90,
  prices: { vcpuHour: 0.04048, gbHour: 0.004445, spotVcpuHour: 0.012144, spotGbHour: 0.0013335 },
};

/** What SST would link to a function of the `test` stage, as `Resource` presents it. */
export function links(overrides: {
  webhookSecret?: string;
  githubApiUrl?: string;
  dashboardPassword?: string;
  access?: StageSettings['access'];
  oauth?: { clientId: string; clientSecret: string };
}) {
  return {
    MatineeTable: { name: 'replaced-by-test' },
    MatineeBus: { name: 'matinee-test' },
    MatineeSettings: {
      ...STAGE,
      githubApiUrl: overrides.githubApiUrl,
      access: overrides.access ?? STAGE.access,
    },
    GithubAppId: { value: '' },
    GithubPrivateKey: { value: '' },
    GithubToken: { value: 'github_pat_test' },
    GithubWebhookSecret: { value: overrides.webhookSecret ?? 'webhook-secret' },
    DashboardPassword: { value: overrides.dashboardPassword ?? '' },
    GithubClientId: { value: overrides.oauth?.clientId ?? '' },
    GithubClientSecret: { value: overrides.oauth?.clientSecret ?? '' },
  };
}
