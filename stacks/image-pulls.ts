/**
 * Which ECR repositories the task execution role may pull preview images from: the stage's own repositories
 * and those `MATINEE_ECR_REPOSITORIES` lists, nothing else of the account. Pure (no SST globals), so settings
 * validate with it and tests read it.
 *
 * `ecr:GetAuthorizationToken` has no resource-level permission and stays on `*`; the token alone pulls nothing,
 * the three layer and image actions below are what each repository allows.
 */

/** An entry of MATINEE_ECR_REPOSITORIES: a full repository ARN, or a name (or `name/*`) in the stage's account and region. */
export type EcrRepository = { arn: string } | { name: string };

export const ECR_PULL_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchGetImage',
] as const;

/** ECR's repository name rule: lowercase segments of `a-z0-9` joined by `.`, `_` or `-`, separated by `/`. */
const SEGMENT = '[a-z0-9]+(?:[._-][a-z0-9]+)*';
const NAME = new RegExp(`^(?:${SEGMENT}/)*${SEGMENT}$`);
const MAX_NAME = 256;
const ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso(?:-[a-z])?):ecr:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):repository\/(.+)$/;

/** `web` or `team/*`: a repository or every repository under a prefix. */
function namePattern(value: string): boolean {
  const name = value.endsWith('/*') ? value.slice(0, -2) : value;
  return name.length <= MAX_NAME && NAME.test(name);
}

/** Reads MATINEE_ECR_REPOSITORIES (comma-separated); each problem names the entry. */
export function parseEcrRepositories(raw: string | undefined): {
  repositories: EcrRepository[];
  problems: string[];
} {
  const entries = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const repositories: EcrRepository[] = [];
  const problems: string[] = [];
  const rule =
    'a repository name (web), a prefix (team/*) or a repository ARN (arn:aws:ecr:<region>:<account>:repository/web, or …/team/*)';
  for (const entry of entries) {
    const arn = ARN.exec(entry);
    if (arn) {
      if (namePattern(arn[4] ?? '')) repositories.push({ arn: entry });
      else problems.push(`MATINEE_ECR_REPOSITORIES: ${JSON.stringify(entry)} names no repository: ${rule}`);
    } else if (entry.startsWith('arn:')) {
      problems.push(
        `MATINEE_ECR_REPOSITORIES: ${JSON.stringify(entry)} is not an ECR repository ARN (arn:<partition>:ecr:<region>:<12-digit account>:repository/<name>)`,
      );
    } else if (namePattern(entry)) {
      repositories.push({ name: entry });
    } else {
      problems.push(`MATINEE_ECR_REPOSITORIES: ${JSON.stringify(entry)} must be ${rule}`);
    }
  }
  if (new Set(entries).size !== entries.length)
    problems.push(
      `MATINEE_ECR_REPOSITORIES lists ${JSON.stringify(entries.find((entry, i) => entries.indexOf(entry) !== i))} twice`,
    );
  return { repositories, problems };
}

/** The stage's own repositories (where a build of the stage pushes): `matinee-<stage>` and under `matinee-<stage>/`. */
export function stageRepositoryNames(stage: string): string[] {
  return [`matinee-${stage}`, `matinee-${stage}/*`];
}

/** The repository ARNs (and ARN patterns) the execution role may pull from, the stage's own first. */
export function ecrPullResources(
  stage: string,
  repositories: EcrRepository[],
  where: { partition: string; region: string; account: string },
): string[] {
  const inStage = (name: string) =>
    `arn:${where.partition}:ecr:${where.region}:${where.account}:repository/${name}`;
  const listed = repositories.map((r) => ('arn' in r ? r.arn : inStage(r.name)));
  return [...new Set([...stageRepositoryNames(stage).map(inStage), ...listed])];
}
