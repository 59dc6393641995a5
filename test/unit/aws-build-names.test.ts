import { CodeBuildImageBuilder, imageTag, slugOf } from '@matinee/aws';
import { environmentId, environmentRef } from '@matinee/core';
import { describe, expect, it } from 'vitest';

const ref = (stage: string) =>
  environmentRef(
    { stage, domain: 'preview.example.com' },
    {
      id: environmentId('acme/web', 42),
      slug: 'fix-login-pr42',
      host: 'fix-login-pr42.preview.example.com',
      observed: { resources: {} },
    },
  );
const sha = 'a'.repeat(40);

describe('the images of an environment', () => {
  it('are tagged with its slug, read from its names as they are made (family matinee-<stage>_<slug>)', () => {
    expect(slugOf('test', ref('test'))).toBe('fix-login-pr42');
    const builder = new CodeBuildImageBuilder({
      repositoryUrl: '123456789012.dkr.ecr.us-east-1.amazonaws.com/matinee-test',
      stage: 'test',
    } as ConstructorParameters<typeof CodeBuildImageBuilder>[0]);
    expect(builder.imageOf(ref('test'), sha, 'app')).toBe(
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/matinee-test:${imageTag('fix-login-pr42', sha, 'app')}`,
    );
  });

  it('are never another stage’s: a stage whose name prefixes this one’s is refused', () => {
    expect(() => slugOf('test', ref('test-b'))).toThrow(/is not an environment of stage test/);
  });
});
