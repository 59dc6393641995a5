/** The GitHub ports: pull requests and permissions, and signing people in. */
import type { StatusReport } from '../feedback/status-report.ts';

export interface OpenPullRequest {
  number: number;
  headSha: string;
}

export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface SourceControl {
  /** The text of `.matinee.yml` at `sha`, or undefined when the file does not exist there. */
  readConfig(repo: string, sha: string): Promise<string | undefined>;
  listOpenPullRequests(repo: string): Promise<OpenPullRequest[]>;
  /** A user's role on the repository. */
  permission(repo: string, user: string): Promise<RepoPermission>;
  /** Makes the pull request's sticky comment and deployment status say `report`. Idempotent. */
  publish(report: StatusReport): Promise<void>;
  /** Answers a command comment with a reaction. */
  react(repo: string, commentId: number, reaction: '+1' | 'confused'): Promise<void>;
}

/** What a one-time sign-in code was issued for: the preview's host, and the page to land on there. */
export interface SignInGrant {
  host: string;
  path: string;
}

/**
 * One-time codes of `github` mode's sign-in (the stage's domain hands one to a preview host). `consume`
 * returns a code's grant once: it deletes the code with a conditional write, so a second use, from anywhere,
 * gets nothing; so does an expired or unknown code.
 */
export interface SignInCodes {
  issue(code: string, grant: SignInGrant, expiresAt: Date): Promise<void>;
  consume(code: string, now: Date): Promise<SignInGrant | undefined>;
}

/** Who signed in with GitHub, and their permission on one repository (`none` when GitHub shows none). */
export type GithubSignInResult =
  | { kind: 'signed-in'; login: string; permission: RepoPermission }
  /** GitHub refused the code (used, expired, or not for this client): the sign-in must start again. */
  | { kind: 'refused' };

/**
 * GitHub's OAuth, for `github` mode: exchanges the code GitHub's callback carries for the user's token,
 * asks who the user is and their permission on `repo` (GitHub's collaborator-permission API), and forgets
 * the token: it is never returned, stored or logged.
 */
export interface GithubSignIn {
  /** The address of GitHub's authorization page for this client, `state` and callback. */
  authorizeUrl(input: { redirectUri: string; state: string }): string;
  check(input: { code: string; redirectUri: string; repo: string }): Promise<GithubSignInResult>;
}
