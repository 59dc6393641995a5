/**
 * What `npm test` needs beyond npm packages, and what to do about each missing piece on this machine. Pure:
 * test/support/provision.ts gathers the facts and carries the plan out; test/unit/provision.test.ts asks
 * what it would do on machines we do not have.
 */

/** Everything the plan depends on, read from the machine. */
export interface MachineFacts {
  /** `process.platform`. */
  platform: string;
  /** `ID` and `ID_LIKE` of /etc/os-release, lowercased; empty off Linux. */
  distro: string[];
  root: boolean;
  /** `apt-get` is on the PATH. */
  apt: boolean;
  /** The major version `java -version` reports; undefined when there is no java on the PATH. */
  javaMajor: number | undefined;
  /** Where the end-to-end tests will look for Chromium (CHROMIUM_PATH or /usr/bin/chromium), and whether it is there. */
  chromium: { path: string; found: boolean };
  /** SST's platform under .sst/ matches the pinned versions (`node stacks/sst-platform.mjs check`). */
  sstPlatform: boolean;
}

export type Step =
  | { kind: 'apt'; packages: string[]; announce: string[] }
  /** stacks/sst-platform.mjs announces itself. */
  | { kind: 'sst-platform' };

export interface ProvisionPlan {
  /** One line per missing thing this script may not install here, each with the command that does. */
  missing: string[];
  /** What it will do, in order, when nothing is missing. */
  steps: Step[];
}

export const JAVA_MAJOR = 17;

interface SystemNeed {
  what: string;
  apt: string;
  /** The command (or sentence) that installs it on this machine when the script may not. */
  install: (facts: MachineFacts) => string;
}

const debianLike = (facts: MachineFacts) =>
  facts.platform === 'linux' && facts.apt && facts.distro.some((id) => id === 'debian' || id === 'ubuntu');
const fedoraLike = (facts: MachineFacts) =>
  facts.platform === 'linux' && facts.distro.some((id) => id === 'fedora' || id === 'rhel');

const JAVA: SystemNeed = {
  what: `Java ${JAVA_MAJOR} (DynamoDB Local runs on it)`,
  apt: `openjdk-${JAVA_MAJOR}-jre-headless`,
  install: (facts) => {
    if (debianLike(facts)) return `sudo apt-get install -y openjdk-${JAVA_MAJOR}-jre-headless`;
    if (fedoraLike(facts)) return `sudo dnf install -y java-${JAVA_MAJOR}-openjdk-headless`;
    if (facts.platform === 'darwin')
      return `brew install openjdk@${JAVA_MAJOR}, then put "$(brew --prefix openjdk@${JAVA_MAJOR})/bin" first on PATH`;
    return `install a Java ${JAVA_MAJOR} runtime (e.g. Temurin, https://adoptium.net) and put its java on PATH`;
  },
};

const CHROMIUM: SystemNeed = {
  what: 'Chromium (the end-to-end tests drive it)',
  apt: 'chromium',
  install: (facts) => {
    if (debianLike(facts)) return 'sudo apt-get install -y chromium';
    if (fedoraLike(facts)) return 'sudo dnf install -y chromium';
    if (facts.platform === 'darwin')
      return 'brew install --cask chromium, then export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium';
    return 'install Chromium and set CHROMIUM_PATH to its executable';
  },
};

export function planProvisioning(facts: MachineFacts): ProvisionPlan {
  const needs: { need: SystemNeed; why: string }[] = [];
  if (facts.javaMajor === undefined) needs.push({ need: JAVA, why: 'java is not on the PATH' });
  else if (facts.javaMajor < JAVA_MAJOR)
    needs.push({ need: JAVA, why: `java on the PATH is version ${facts.javaMajor}` });
  if (!facts.chromium.found) needs.push({ need: CHROMIUM, why: `nothing at ${facts.chromium.path}` });

  const steps: Step[] = [];
  if (needs.length && debianLike(facts) && facts.root) {
    steps.push({
      kind: 'apt',
      packages: needs.map(({ need }) => need.apt),
      announce: needs.map(({ need, why }) => `Installing ${need.what} through apt (${why}): ${need.apt}`),
    });
  } else if (needs.length) {
    return {
      missing: needs.map(({ need, why }) => `Missing ${need.what}, ${why}: ${need.install(facts)}`),
      steps: [],
    };
  }
  if (!facts.sstPlatform) steps.push({ kind: 'sst-platform' });
  return { missing: [], steps };
}

/** `java -version` output → major version: `"17.0.15"` → 17, the old `"1.8.0_392"` → 8. */
export function javaMajorOf(versionOutput: string): number | undefined {
  const version = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!version?.[1]) return undefined;
  const major = Number(version[1]);
  return major === 1 && version[2] ? Number(version[2]) : major;
}

/** /etc/os-release → its ID and ID_LIKE words, lowercased. */
export function distroOf(osRelease: string): string[] {
  return [...osRelease.matchAll(/^(?:ID|ID_LIKE)=("?)([^"\n]*)\1$/gm)].flatMap((match) =>
    (match[2] ?? '').toLowerCase().split(/\s+/).filter(Boolean),
  );
}
