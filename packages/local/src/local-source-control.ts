import { readFile } from 'node:fs/promises';
import type {
  EnvironmentStore,
  Logger,
  OpenPullRequest,
  RepoPermission,
  SourceControl,
  StatusReport,
} from '@matinee/core';
import { urlWithoutToken } from '@matinee/core';
import { parseDocument } from 'yaml';

export interface LocalSourceControlOptions {
  /** The `.matinee.yml` every repository gets locally. */
  configPath: string;
  /** Replaces the config's `idle`, for demos (`20s`). */
  idle?: string;
  store: EnvironmentStore;
  log: Logger;
}

/**
 * GitHub as one machine sees it: every repository has the same `.matinee.yml` (read from disk on every
 * call, so edits apply to the next deploy), the person at the keyboard may do anything, and the pull
 * requests still open are the ones the store has not been told are closed. What would be posted on the
 * pull request is logged, and the latest report per pull request kept for the CLI and tests.
 */
export class LocalSourceControl implements SourceControl {
  readonly reports = new Map<string, StatusReport>();

  constructor(private readonly options: LocalSourceControlOptions) {}

  async readConfig(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.options.configPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (!this.options.idle) return text;
    const document = parseDocument(text);
    // An invalid file is left for the config validation to explain; only a valid map gets the override.
    if (document.errors.length || !document.contents || !('set' in document.contents)) return text;
    document.set('idle', this.options.idle);
    return document.toString();
  }

  async listOpenPullRequests(repo: string): Promise<OpenPullRequest[]> {
    const environments = await this.options.store.listByRepo(repo);
    return environments
      .filter((env) => env.pr.open)
      .map((env) => ({ number: env.number, headSha: env.pr.headSha }));
  }

  async permission(): Promise<RepoPermission> {
    return 'admin';
  }

  async publish(report: StatusReport): Promise<void> {
    this.reports.set(`${report.repo}#${report.number}`, report);
    // What the pull request's comment would say; the event lines (`… ready in 1.4 s`) say it to a person.
    this.options.log.debug(`${report.repo}#${report.number} is ${report.state}`, {
      // A private repository's link carries its secret: never in a log (the dashboard and `matinee ls` have it).
      url: urlWithoutToken(report.url),
      sha: report.sha.slice(0, 7),
      ...(report.reason ? { reason: report.reason } : {}),
    });
  }

  async react(repo: string, commentId: number, reaction: '+1' | 'confused'): Promise<void> {
    this.options.log.info('reacted to a command', { repo, commentId, reaction });
  }
}
