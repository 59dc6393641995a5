import { expect, it } from 'vitest';
import { deploy } from './sst-harness.ts';

it('runs', async () => {
  const d = await deploy({
    stage: 'production',
    env: { MATINEE_DOMAIN: 'preview.example.com', MATINEE_HOSTED_ZONE: 'example.com' },
    secrets: { GithubWebhookSecret: 'shh' },
  });
  console.error(d.resources.map((r) => `${r.type} ${r.name}`).join('\n'));
  console.error(JSON.stringify(d.outputs, null, 1));
  console.error(d.builds.map((b) => JSON.stringify(b)).join('\n'));
  expect(d.resources.length).toBeGreaterThan(10);
}, 120_000);
