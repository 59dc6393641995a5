import { describe, expect, it } from 'vitest';
import { distroOf, javaMajorOf, type MachineFacts, planProvisioning } from '../support/provision-plan.ts';

/** A Debian container as root with everything installed: the machine CI runs on. */
const READY: MachineFacts = {
  platform: 'linux',
  distro: ['debian'],
  root: true,
  apt: true,
  javaMajor: 17,
  chromium: { path: '/usr/bin/chromium', found: true },
  sstPlatform: true,
};

const MAC: MachineFacts = {
  ...READY,
  platform: 'darwin',
  distro: [],
  root: false,
  apt: false,
};

describe('what npm test provisions before it runs', () => {
  it('does nothing and reports nothing when everything is present', () => {
    expect(planProvisioning(READY)).toEqual({ missing: [], steps: [] });
  });

  it('installs a missing Java through apt on Debian as root, and says so', () => {
    const plan = planProvisioning({ ...READY, javaMajor: undefined });

    expect(plan.missing).toEqual([]);
    expect(plan.steps).toEqual([
      {
        kind: 'apt',
        packages: ['openjdk-17-jre-headless'],
        announce: [expect.stringMatching(/^Installing Java 17 .*openjdk-17-jre-headless$/)],
      },
    ]);
  });

  it('replaces a Java older than 17 the same way', () => {
    const plan = planProvisioning({ ...READY, javaMajor: 11 });

    expect(plan.steps).toEqual([expect.objectContaining({ packages: ['openjdk-17-jre-headless'] })]);
    expect(plan.steps[0]).toMatchObject({ announce: [expect.stringContaining('version 11')] });
  });

  it('installs Java and Chromium in one apt step on Ubuntu as root', () => {
    const plan = planProvisioning({
      ...READY,
      distro: ['ubuntu', 'debian'],
      javaMajor: undefined,
      chromium: { path: '/usr/bin/chromium', found: false },
    });

    expect(plan.steps).toEqual([
      expect.objectContaining({ kind: 'apt', packages: ['openjdk-17-jre-headless', 'chromium'] }),
    ]);
  });

  it('stops on macOS with one line naming the brew command for a missing Chromium', () => {
    const plan = planProvisioning({ ...MAC, chromium: { path: '/usr/bin/chromium', found: false } });

    expect(plan.steps).toEqual([]);
    expect(plan.missing).toEqual([
      'Missing Chromium (the end-to-end tests drive it), nothing at /usr/bin/chromium: brew install --cask chromium, then export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium',
    ]);
  });

  it('does not run apt when not root: one line per missing thing, with the sudo command', () => {
    const plan = planProvisioning({
      ...READY,
      root: false,
      javaMajor: undefined,
      chromium: { path: '/usr/bin/chromium', found: false },
      sstPlatform: false,
    });

    expect(plan.steps).toEqual([]);
    expect(plan.missing).toEqual([
      expect.stringMatching(/^Missing Java 17 .*: sudo apt-get install -y openjdk-17-jre-headless$/),
      expect.stringMatching(/^Missing Chromium .*: sudo apt-get install -y chromium$/),
    ]);
  });

  it('names dnf on Fedora and a generic way elsewhere', () => {
    const java = { javaMajor: undefined };

    expect(
      planProvisioning({ ...READY, ...java, root: false, apt: false, distro: ['fedora'] }).missing,
    ).toEqual([expect.stringMatching(/sudo dnf install -y java-17-openjdk-headless$/)]);
    expect(planProvisioning({ ...MAC, ...java, platform: 'win32' }).missing).toEqual([
      expect.stringMatching(/install a Java 17 runtime .* put its java on PATH$/),
    ]);
  });

  it("installs SST's platform wherever it is missing, after the system packages", () => {
    expect(planProvisioning({ ...MAC, sstPlatform: false }).steps).toEqual([{ kind: 'sst-platform' }]);
    expect(
      planProvisioning({ ...READY, javaMajor: undefined, sstPlatform: false }).steps.map((step) => step.kind),
    ).toEqual(['apt', 'sst-platform']);
  });
});

describe('reading the machine', () => {
  it("reads Java's major version, old and new style", () => {
    expect(javaMajorOf('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment')).toBe(17);
    expect(javaMajorOf('java version "1.8.0_392"')).toBe(8);
    expect(javaMajorOf('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajorOf('bash: java: command not found')).toBeUndefined();
  });

  it('reads the distribution and what it is like from os-release', () => {
    expect(distroOf('PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nID_LIKE=debian\n')).toEqual([
      'ubuntu',
      'debian',
    ]);
    expect(distroOf('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"')).toEqual([
      'rocky',
      'rhel',
      'centos',
      'fedora',
    ]);
  });
});
