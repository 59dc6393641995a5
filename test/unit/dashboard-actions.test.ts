import {
  dashboardAction,
  dashboardPage,
  environmentId,
  getEnvironmentView,
  onPullRequest,
  onTaskEvent,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const WITH_VOLUME = WEB_CONFIG.replace(
  '      POSTGRES_PASSWORD: postgres\n',
  '      POSTGRES_PASSWORD: postgres\n    volumes: [{ name: pgdata, path: /var/lib/postgresql/data, uid: 999 }]\n',
);

/** acme/web#42 opened and started; `config` as its `.matinee.yml`. */
async function ready(settings: { access?: 'public' | 'link' } = {}, config = WEB_CONFIG) {
  const h = harness(settings);
  h.source.setConfig('acme/web', config);
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  return h;
}

const offered = async (h: ReturnType<typeof harness>) => {
  const view = await getEnvironmentView(h.deps, ID);
  return { state: view?.state, actions: view?.actions };
};

async function act(h: Awaited<ReturnType<typeof ready>>, action: 'wake' | 'sleep' | 'remove') {
  await dashboardAction(h.deps, ID, action);
  await h.drain();
}

describe('the actions a dashboard row offers', () => {
  it('are those that change something in its state: sleep when ready, wake when asleep', async () => {
    const h = await ready();
    expect(await offered(h)).toEqual({ state: 'ready', actions: ['sleep', 'redeploy', 'remove'] });

    await act(h, 'sleep');

    expect(await offered(h)).toEqual({ state: 'asleep', actions: ['wake', 'redeploy', 'remove'] });
  });

  it('offer reset-data only with volumes, and links only for a private preview', async () => {
    const h = await ready({ access: 'link' }, WITH_VOLUME);

    expect((await offered(h)).actions).toEqual([
      'sleep',
      'redeploy',
      'reset-data',
      'share',
      'rotate-link',
      'remove',
    ]);
  });

  it('are none once it is removed', async () => {
    const h = await ready({ access: 'link' });

    await act(h, 'remove');

    expect((await offered(h)).actions).toEqual([]);
  });

  it('leave a failed preview redeploy and remove, not wake', async () => {
    const h = harness();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    const env = await h.store.get(ID);
    for (const task of ['beef', 'cafe', 'f00d'])
      await onTaskEvent(h.deps, {
        service: env?.observed.resources.serviceArn?.split('/').pop() ?? '',
        taskDefinitionArn: env?.observed.resources.taskDefinitionArn ?? '',
        lastStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/${task}`,
      });
    await h.drain();

    const { state, actions } = await offered(h);
    expect(state).toBe('failed');
    expect(actions).toContain('redeploy');
    expect(actions).toContain('remove');
    expect(actions).not.toContain('wake');
  });
});

describe('the dashboard page', () => {
  it('puts its title in as text, and nothing can close its script', () => {
    const page = dashboardPage({
      title: '<img src=x onerror=alert(1)>',
      api: '/api</script><script>alert(1)',
    });

    expect(page).not.toContain('<img');
    expect(page.match(/<\/script>/g)).toHaveLength(1);
  });
});
