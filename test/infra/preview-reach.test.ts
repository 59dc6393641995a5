import { describe, expect, it } from 'vitest';
import { ecrPullResources, parseEcrRepositories } from '../../stacks/image-pulls.ts';
import { MAX_EGRESS_RULES, parsePreviewEgress } from '../../stacks/preview-egress.ts';
import { readStageInput, StageInputError } from '../../stacks/settings.ts';

/** MATINEE_ECR_REPOSITORIES and MATINEE_PREVIEW_EGRESS: what previews may pull and reach, read at deploy. */
const DOMAIN = { MATINEE_DOMAIN: 'preview.example.com' };
const problems = (env: Record<string, string>): string[] => {
  try {
    readStageInput({ ...DOMAIN, ...env }, 'production');
  } catch (error) {
    if (error instanceof StageInputError) return error.problems;
    throw error;
  }
  return [];
};
const where = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };

describe('MATINEE_ECR_REPOSITORIES', () => {
  it("allows only the stage's own repositories when unset", () => {
    expect(readStageInput(DOMAIN, 'production').ecrRepositories).toEqual([]);
    expect(ecrPullResources('production', [], where)).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/matinee-production',
      'arn:aws:ecr:eu-west-1:123456789012:repository/matinee-production/*',
    ]);
  });

  it("adds names and prefixes in the stage's account and region, and ARNs as given", () => {
    const { ecrRepositories } = readStageInput(
      {
        ...DOMAIN,
        MATINEE_ECR_REPOSITORIES:
          ' web , team/* ,arn:aws:ecr:us-west-2:210987654321:repository/shared/base,arn:aws:ecr:us-east-1:123456789012:repository/ci/*',
      },
      'production',
    );
    expect(ecrPullResources('production', ecrRepositories, where).slice(2)).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/web',
      'arn:aws:ecr:eu-west-1:123456789012:repository/team/*',
      'arn:aws:ecr:us-west-2:210987654321:repository/shared/base',
      'arn:aws:ecr:us-east-1:123456789012:repository/ci/*',
    ]);
  });

  it('refuses each bad entry by name, in one error', () => {
    const bad = [
      '*',
      'Web',
      'team*',
      'team/',
      'a//b',
      '-web',
      'arn:aws:ecr:*:123456789012:repository/web',
      'arn:aws:ecr:us-east-1:12345:repository/web',
      'arn:aws:s3:::bucket',
      'arn:aws:ecr:us-east-1:123456789012:repository/*',
    ];
    const found = problems({ MATINEE_ECR_REPOSITORIES: bad.join(',') });
    expect(found).toHaveLength(bad.length);
    bad.forEach((entry, i) => {
      expect(found[i]).toMatch(/^MATINEE_ECR_REPOSITORIES: /);
      expect(found[i]).toContain(JSON.stringify(entry));
    });
    expect(problems({ MATINEE_ECR_REPOSITORIES: 'web,api,web' })).toEqual([
      'MATINEE_ECR_REPOSITORIES lists "web" twice',
    ]);
  });

  it('takes names up to ECR’s 256 characters', () => {
    expect(parseEcrRepositories(`${'a'.repeat(256)}`).problems).toEqual([]);
    expect(parseEcrRepositories(`${'a'.repeat(257)}`).problems).toHaveLength(1);
  });
});

describe('MATINEE_PREVIEW_EGRESS', () => {
  it('is all unless set', () => {
    expect(readStageInput(DOMAIN, 'production').previewEgress).toBe('all');
    expect(readStageInput({ ...DOMAIN, MATINEE_PREVIEW_EGRESS: ' ALL ' }, 'p').previewEgress).toBe('all');
  });

  it('reads CIDRs for every protocol and CIDR:port or CIDR:low-high for TCP, IPv4 and IPv6', () => {
    expect(
      readStageInput(
        {
          ...DOMAIN,
          MATINEE_PREVIEW_EGRESS: '0.0.0.0/0:443, 10.0.0.0/16 ,203.0.113.7/32:5432,2001:db8::/32:8000-8999',
        },
        'p',
      ).previewEgress,
    ).toEqual([
      { entry: '0.0.0.0/0:443', cidr: '0.0.0.0/0', family: 'ipv4', ports: { from: 443, to: 443 } },
      { entry: '10.0.0.0/16', cidr: '10.0.0.0/16', family: 'ipv4' },
      {
        entry: '203.0.113.7/32:5432',
        cidr: '203.0.113.7/32',
        family: 'ipv4',
        ports: { from: 5432, to: 5432 },
      },
      {
        entry: '2001:db8::/32:8000-8999',
        cidr: '2001:db8::/32',
        family: 'ipv6',
        ports: { from: 8000, to: 8999 },
      },
    ]);
  });

  it('refuses each bad entry by name, in one error', () => {
    const bad = [
      '10.0.0.0',
      '10.0.0.0/33',
      '10.0.0.1/8',
      '2001:db8::1/32',
      '::/129',
      '300.0.0.0/8',
      'example.com/32',
      '10.0.0.0/8:0',
      '10.0.0.0/8:70000',
      '10.0.0.0/8:90-80',
      '10.0.0.0/8:https',
    ];
    const found = problems({ MATINEE_PREVIEW_EGRESS: ['0.0.0.0/0:443', ...bad].join(',') });
    expect(found).toHaveLength(bad.length);
    bad.forEach((entry, i) => {
      expect(found[i]).toMatch(/^MATINEE_PREVIEW_EGRESS: /);
      expect(found[i]).toContain(JSON.stringify(entry));
    });
  });

  it('refuses a list through which no image could be pulled (no port 443)', () => {
    expect(problems({ MATINEE_PREVIEW_EGRESS: '10.0.0.0/16:5432,0.0.0.0/0:80' })).toEqual([
      expect.stringMatching(/^MATINEE_PREVIEW_EGRESS allows no HTTPS \(port 443\)/),
    ]);
    expect(problems({ MATINEE_PREVIEW_EGRESS: '0.0.0.0/0:1-1024' })).toEqual([]);
    expect(problems({ MATINEE_PREVIEW_EGRESS: '10.0.0.0/8' })).toEqual([]);
  });

  it('refuses the same rule twice, and more rules than a security group holds', () => {
    expect(problems({ MATINEE_PREVIEW_EGRESS: '0.0.0.0/0:443,0.0.0.0/0:443-443' })).toEqual([
      'MATINEE_PREVIEW_EGRESS lists "0.0.0.0/0:443-443" twice',
    ]);
    const many = Array.from({ length: MAX_EGRESS_RULES + 1 }, (_, i) => `10.0.${i}.0/24:443`).join(',');
    expect(parsePreviewEgress(many).problems).toEqual([expect.stringMatching(/has 51 entries; at most 50/)]);
  });
});
