import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../stacks/cidr.ts';
import { readStageInput, StageInputError } from '../../stacks/settings.ts';

/** stacks/settings.ts: MATINEE_ACCESS, MATINEE_ALLOW_CIDRS and MATINEE_INTERNAL. */
const DOMAIN = { MATINEE_DOMAIN: 'preview.example.com' };
const VPC = {
  MATINEE_VPC_ID: 'vpc-0123456789abcdef0',
  MATINEE_SUBNET_IDS: 'subnet-0aaaaaaaa,subnet-0bbbbbbbb',
};

const OAUTH = { SST_SECRET_GithubClientId: 'Iv1.0123', SST_SECRET_GithubClientSecret: 'client-secret' };

const problems = (env: Record<string, string>): string[] => {
  try {
    readStageInput({ ...DOMAIN, ...env }, 'production');
  } catch (error) {
    if (error instanceof StageInputError) return error.problems;
    throw error;
  }
  return [];
};
const access = (env: Record<string, string>) => readStageInput({ ...DOMAIN, ...env }, 'production').access;

describe('MATINEE_ACCESS', () => {
  it('is link unless set: previews on AWS need their link', () => {
    expect(access({})).toEqual({ mode: 'link', allowCidrs: undefined, internal: false });
  });

  it('takes public, link or github', () => {
    for (const mode of ['public', 'link', 'github'] as const)
      expect(access({ ...OAUTH, MATINEE_ACCESS: mode }).mode).toBe(mode);
    expect(access({ ...OAUTH, MATINEE_ACCESS: ' GitHub ' }).mode).toBe('github');
  });

  it("stops a github-mode deploy without the GitHub App's OAuth client (as `sst secret set` hands it to the deploy)", () => {
    expect(problems({ MATINEE_ACCESS: 'github', SST_SECRET_GithubClientId: 'Iv1.0123' })).toEqual([
      "MATINEE_ACCESS=github signs reviewers in with the GitHub App's OAuth client: set the secret GithubClientSecret (the App's Client ID, and a client secret generated on its settings page: npx sst secret set <Name> <value> --stage production), or choose another MATINEE_ACCESS",
    ]);
    expect(problems({ MATINEE_ACCESS: 'github', SST_SECRET_GithubClientSecret: ' ' })).toEqual([
      expect.stringContaining('set the secrets GithubClientId and GithubClientSecret'),
    ]);
    expect(problems({ MATINEE_ACCESS: 'link' })).toEqual([]);
  });

  it('refuses anything else, naming the variable and the modes', () => {
    for (const bad of ['private', 'none', 'true'])
      expect(problems({ MATINEE_ACCESS: bad }), bad).toEqual([
        `MATINEE_ACCESS must be one of public, link, github: ${JSON.stringify(bad)}`,
      ]);
  });
});

describe('MATINEE_ALLOW_CIDRS', () => {
  it('takes IPv4 and IPv6 ranges, canonical IPv6', () => {
    expect(access({ MATINEE_ALLOW_CIDRS: '203.0.113.0/24, 198.51.100.7/32,2001:DB8:0:0::/32' })).toEqual({
      mode: 'link',
      internal: false,
      allowCidrs: [
        { family: 'V4', cidr: '203.0.113.0/24' },
        { family: 'V4', cidr: '198.51.100.7/32' },
        { family: 'V6', cidr: '2001:db8::/32' },
      ],
    });
  });

  it('names each malformed range in one problem', () => {
    const [problem, ...others] = problems({
      MATINEE_ALLOW_CIDRS: '10.1.2.3/8,203.0.113.7,300.0.0.0/8,10.0.0.0/33,2001:db8::1::/64,example.com/24',
    });
    expect(others).toEqual([]);
    expect(problem).toBe(
      'MATINEE_ALLOW_CIDRS: "10.1.2.3/8" has address bits set beyond its prefix (did you mean 10.0.0.0/8?); ' +
        '"203.0.113.7" needs one prefix length, e.g. 203.0.113.7/32 for one address; ' +
        '"300.0.0.0/8" is not an IPv4 or IPv6 address range; ' +
        '"10.0.0.0/33" has a prefix longer than 32; ' +
        '"2001:db8::1::/64" is not an IPv4 or IPv6 address range; ' +
        '"example.com/24" is not an IPv4 or IPv6 address range',
    );
  });

  it('refuses an empty list, a range listed twice (however written) and more ranges than the group holds', () => {
    expect(problems({ MATINEE_ALLOW_CIDRS: ' , ' })).toEqual([
      expect.stringMatching(/^MATINEE_ALLOW_CIDRS lists no range/),
    ]);
    expect(problems({ MATINEE_ALLOW_CIDRS: '2001:db8::/32,2001:0db8:0::/32' })).toEqual([
      'MATINEE_ALLOW_CIDRS lists a range twice: 2001:db8::/32',
    ]);
    const many = Array.from({ length: 31 }, (_, i) => `10.0.${i}.0/24`).join(',');
    expect(problems({ MATINEE_ALLOW_CIDRS: many })).toEqual([
      expect.stringMatching(/^MATINEE_ALLOW_CIDRS lists 31 ranges; at most 30/),
    ]);
  });
});

describe('MATINEE_INTERNAL', () => {
  it('puts the load balancer in the given VPC, or says it needs one', () => {
    expect(access({ ...VPC, MATINEE_INTERNAL: 'true' }).internal).toBe(true);
    expect(access({ ...VPC, MATINEE_INTERNAL: 'false' }).internal).toBe(false);
    expect(problems({ MATINEE_INTERNAL: 'true' })).toEqual([
      expect.stringMatching(/^MATINEE_INTERNAL=true needs MATINEE_VPC_ID and MATINEE_SUBNET_IDS/),
    ]);
  });

  it('is true or false', () => {
    for (const bad of ['yes', '1', 'TRUE'])
      expect(problems({ ...VPC, MATINEE_INTERNAL: bad }), bad).toEqual([
        `MATINEE_INTERNAL must be true or false, not ${JSON.stringify(bad)}`,
      ]);
  });
});

describe('parseCidr', () => {
  it('gives IPv6 in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['::/0', '::/0'],
      ['0.0.0.0/0', '0.0.0.0/0'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001/128', '2001:db8::1/128'],
      ['2001:db8:0:1:0:0:0:0/64', '2001:db8:0:1::/64'],
      ['2001:0:0:1:0:0:0:0/128', '2001:0:0:1::/128'],
      ['1:0:2:3:4:5:6:7/128', '1:0:2:3:4:5:6:7/128'],
      ['fe80::/10', 'fe80::/10'],
    ];
    for (const [input, canonical] of cases)
      expect(parseCidr(input), input).toMatchObject({ cidr: canonical });
  });

  it('refuses addresses that are not ranges', () => {
    for (const bad of [
      '010.0.0.0/8',
      '1.2.3/24',
      '::1.2.3.4/128',
      '1:2:3:4:5:6:7:8:9/128',
      ':::/0',
      '/8',
      '10.0.0.0/-1',
    ])
      expect(parseCidr(bad), bad).toHaveProperty('error');
    expect(parseCidr('fe80::1/10')).toEqual({
      error: 'has address bits set beyond its prefix (did you mean fe80::/10?)',
    });
  });
});
