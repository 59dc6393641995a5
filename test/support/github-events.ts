import { pullRequest, REPO, SHA_1 } from './aws-deployment.ts';
import { example } from './webhooks.ts';

/** The base commit of REPO#42 when it comes from a fork: its `.matinee.yml` decides whether forks deploy. */
export const BASE_SHA = 'b'.repeat(40);
export const FORK_LABEL = 'matinee:deploy';

/** A pull_request delivery for REPO#42 from a fork (`outsider/web`), at `sha`. */
export function fromFork(
  action: string,
  extra: Record<string, unknown> = {},
  updatedAt = '2026-11-22T10:00:00Z',
  sha = SHA_1,
) {
  const payload = pullRequest(action, sha, updatedAt, extra);
  payload.pull_request.head.repo = { full_name: 'outsider/web' };
  payload.pull_request.base.sha = BASE_SHA;
  return payload;
}

/** The fork's deploy label added by `by` while the head is `sha`. */
export function labeled(by: string, updatedAt: string, sha = SHA_1) {
  const payload = fromFork('labeled', { labels: [{ name: FORK_LABEL }] }, updatedAt, sha);
  payload.label = { ...example('pull_request', 'labeled').label, name: FORK_LABEL };
  payload.sender = { ...payload.sender, login: by };
  return payload;
}

let comments = 9000;
/** A new comment on REPO#42 by `user`, just written (each call is another comment, with its own id). */
export function command(body: string, user = 'maintainer') {
  const payload = example('issue_comment', 'created');
  payload.repository.full_name = REPO;
  payload.issue.number = 42;
  payload.issue.pull_request = { url: `https://api.github.com/repos/${REPO}/pulls/42` };
  payload.comment.id = ++comments;
  payload.comment.created_at = new Date().toISOString();
  payload.comment.body = body;
  payload.sender = { ...payload.sender, login: user };
  payload.comment.user = { ...payload.comment.user, login: user };
  return payload;
}
