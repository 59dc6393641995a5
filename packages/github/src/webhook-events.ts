import type { CommentCommand, PullRequestChange, WorkflowRunCompleted } from '@matinee/core';
import { en } from 'zod/locales';
import * as z from 'zod/mini';

/** What a verified webhook asks of Matinee. */
export type WebhookAction =
  | { kind: 'pull-request'; change: PullRequestChange }
  | { kind: 'branch-deleted'; repo: string; branch: string }
  | { kind: 'command'; comment: CommentCommand }
  | { kind: 'workflow-run'; run: WorkflowRunCompleted }
  | { kind: 'ping' }
  | { kind: 'ignored'; reason: string };

export const handledPullRequestActions = [
  'opened',
  'reopened',
  'synchronize',
  'ready_for_review',
  'converted_to_draft',
  'labeled',
  'unlabeled',
  'closed',
  'edited',
] as const;

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

const repository = z.object({ full_name: z.string() });
const sender = z.object({ login: z.string() });

const pullRequestEvent = z.object({
  action: z.string(),
  /** `private` decides whether a preview's link may be written into the pull request (see publishedLink). */
  repository: z.extend(repository, { private: z.optional(z.boolean()) }),
  sender,
  label: z.optional(z.object({ name: z.string() })),
  pull_request: z.object({
    number: z.number().check(z.int(), z.positive()),
    state: z.enum(['open', 'closed']),
    draft: z.optional(z.boolean()),
    merged: z.optional(z.nullable(z.boolean())),
    updated_at: z.string(),
    labels: z._default(z.array(z.object({ name: z.string() })), []),
    head: z.object({ ref: z.string(), sha: z.string(), repo: z.nullable(repository) }),
    base: z.object({ ref: z.string(), sha: z.string(), repo: repository }),
  }),
});

const deleteEvent = z.object({ ref: z.string(), ref_type: z.string(), repository });
const pushEvent = z.object({ ref: z.string(), deleted: z._default(z.boolean(), false), repository });
const issueCommentEvent = z.object({
  action: z.string(),
  repository,
  sender,
  issue: z.object({
    number: z.number().check(z.int(), z.positive()),
    pull_request: z.optional(z.looseObject({})),
  }),
  comment: z.object({
    id: z.number().check(z.int()),
    body: z._default(z.nullable(z.string()), ''),
    created_at: z.optional(z.string()),
  }),
});
const workflowRunEvent = z.object({
  action: z.string(),
  repository,
  workflow_run: z.object({
    name: z.nullable(z.string()),
    head_sha: z.string(),
    conclusion: z.nullable(z.string()),
    html_url: z.optional(z.string()),
  }),
});

/** Thrown for a payload that does not have the shape its event promises: the sender gets a 400. */
export class MalformedPayload extends Error {}

function parse<T>(schema: z.ZodMiniType<T>, payload: unknown, event: string): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const where = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`,
    );
    throw new MalformedPayload(`${event} payload: ${where.slice(0, 5).join('; ')}`);
  }
  return result.data;
}

/** Maps an event name and its (verified, JSON) payload to what Matinee should do. Pure. */
export function webhookAction(event: string, payload: unknown): WebhookAction {
  switch (event) {
    case 'ping':
      return { kind: 'ping' };
    case 'pull_request': {
      const {
        action,
        repository: repo,
        pull_request: pr,
        label,
        sender: who,
      } = parse(pullRequestEvent, payload, event);
      if (!(handledPullRequestActions as readonly string[]).includes(action)) {
        return { kind: 'ignored', reason: `pull_request.${action} changes nothing Matinee deploys` };
      }
      const fork =
        !pr.head.repo || pr.head.repo.full_name.toLowerCase() !== pr.base.repo.full_name.toLowerCase();
      return {
        kind: 'pull-request',
        change: {
          repo: repo.full_name,
          number: pr.number,
          action,
          repoPrivate: repo.private,
          facts: {
            branch: pr.head.ref,
            headSha: pr.head.sha,
            baseSha: pr.base.sha,
            fork,
            draft: pr.draft ?? false,
            open: pr.state === 'open',
            merged: pr.merged ?? false,
            labels: pr.labels.map((l) => l.name),
            updatedAt: pr.updated_at,
            labeledBy: action === 'labeled' && label ? { [label.name]: who.login } : undefined,
          },
        },
      };
    }
    case 'delete': {
      const { ref, ref_type, repository: repo } = parse(deleteEvent, payload, event);
      return ref_type === 'branch'
        ? { kind: 'branch-deleted', repo: repo.full_name, branch: ref }
        : { kind: 'ignored', reason: `a ${ref_type} was deleted, not a branch` };
    }
    case 'push': {
      const { ref, deleted, repository: repo } = parse(pushEvent, payload, event);
      if (!deleted) return { kind: 'ignored', reason: 'pushes are deployed through their pull request' };
      return ref.startsWith('refs/heads/')
        ? { kind: 'branch-deleted', repo: repo.full_name, branch: ref.slice('refs/heads/'.length) }
        : { kind: 'ignored', reason: `${ref} is not a branch` };
    }
    case 'issue_comment': {
      const {
        action,
        issue,
        comment,
        repository: repo,
        sender: who,
      } = parse(issueCommentEvent, payload, event);
      if (action !== 'created') return { kind: 'ignored', reason: `issue_comment.${action}` };
      if (!issue.pull_request)
        return { kind: 'ignored', reason: 'a comment on an issue, not a pull request' };
      if (!/^\s*\/matinee(\s|$)/m.test(comment.body ?? ''))
        return { kind: 'ignored', reason: 'not a /matinee command' };
      return {
        kind: 'command',
        comment: {
          repo: repo.full_name,
          number: issue.number,
          commentId: comment.id,
          user: who.login,
          body: comment.body ?? '',
          createdAt: comment.created_at,
        },
      };
    }
    case 'workflow_run': {
      const { action, workflow_run: run, repository: repo } = parse(workflowRunEvent, payload, event);
      if (action !== 'completed' || !run.name || !run.conclusion)
        return { kind: 'ignored', reason: `workflow_run.${action}` };
      return {
        kind: 'workflow-run',
        run: {
          repo: repo.full_name,
          headSha: run.head_sha,
          workflow: run.name,
          conclusion: run.conclusion,
          url: run.html_url,
        },
      };
    }
    default:
      return { kind: 'ignored', reason: `Matinee does not act on ${event} events` };
  }
}
