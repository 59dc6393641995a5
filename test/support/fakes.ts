import {
  type Bus,
  type Clock,
  ConflictError,
  countsAsAwake,
  type Environment,
  type EnvironmentId,
  type EnvironmentStore,
  type Logger,
  MatineeError,
  type OpenPullRequest,
  type RepoPermission,
  type SourceControl,
  type StatusReport,
} from '@matinee/core';

const clone = <T>(value: T): T => structuredClone(value);

/** The store port in memory, with the same conditional semantics as the DynamoDB adapter. */
export class InMemoryStore implements EnvironmentStore {
  readonly environments = new Map<EnvironmentId, Environment>();
  readonly hosts = new Map<string, EnvironmentId>();
  readonly deliveries = new Set<string>();
  writes = 0;

  async get(id: EnvironmentId) {
    const env = this.environments.get(id);
    return env && clone(env);
  }
  async getByHost(host: string) {
    const id = this.hosts.get(host);
    return id && this.get(id);
  }
  async listByRepo(repo: string) {
    return [...this.environments.values()].filter((env) => env.repo === repo).map(clone);
  }
  async listAwake() {
    return [...this.environments.values()].filter(countsAsAwake).map(clone);
  }
  async listAll() {
    return [...this.environments.values()].map(clone);
  }
  async create(env: Omit<Environment, 'slug' | 'host' | 'version'>, slugs: string[], domain: string) {
    if (this.environments.has(env.id)) throw new ConflictError(`environment ${env.id} exists`);
    for (const slug of slugs) {
      const host = `${slug}.${domain}`;
      const owner = this.hosts.get(host);
      if (owner && owner !== env.id) continue;
      const created: Environment = { ...clone(env), slug, host, version: 1 };
      this.hosts.set(host, env.id);
      this.environments.set(env.id, created);
      this.writes++;
      return clone(created);
    }
    throw new MatineeError(`no free host among ${slugs.join(', ')}`);
  }
  async save(env: Environment) {
    const stored = this.environments.get(env.id);
    if (!stored || stored.version !== env.version) throw new ConflictError(`environment ${env.id} changed`);
    const saved = { ...clone(env), version: env.version + 1 };
    this.environments.set(env.id, saved);
    this.writes++;
    return clone(saved);
  }
  async claimDelivery(id: string) {
    if (this.deliveries.has(id)) return false;
    this.deliveries.add(id);
    return true;
  }
  async releaseDelivery(id: string) {
    this.deliveries.delete(id);
  }
  readonly comments = new Set<string>();
  async claimComment(key: string) {
    if (this.comments.has(key)) return false;
    this.comments.add(key);
    return true;
  }
  async releaseComment(key: string) {
    this.comments.delete(key);
  }
}

export class RecordingBus implements Bus {
  readonly requests: { ids: EnvironmentId[]; reason: string }[] = [];
  async requestReconcile(ids: EnvironmentId[], reason: string) {
    this.requests.push({ ids: [...ids], reason });
  }
  get ids(): EnvironmentId[] {
    return this.requests.flatMap((request) => request.ids);
  }
}

export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-02T09:00:00Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** `.matinee.yml` per `repo@sha`, open pull requests and permissions per repo; records what is published. */
export class FakeSourceControl implements SourceControl {
  readonly files = new Map<string, string>();
  readonly open = new Map<string, OpenPullRequest[]>();
  /** `repo user` → role; everyone else has `read`. */
  readonly permissions = new Map<string, RepoPermission>();
  readonly published: StatusReport[] = [];
  readonly reactions: { repo: string; commentId: number; reaction: string }[] = [];
  /** The next n publishes fail, as when GitHub rate-limits. */
  failPublishes = 0;
  reads = 0;
  /** Every commit of `repo` has this file, unless a commit-specific one is set. */
  setConfig(repo: string, text: string, sha = '*') {
    this.files.set(`${repo}@${sha}`, text);
  }
  async readConfig(repo: string, sha: string) {
    this.reads++;
    return this.files.get(`${repo}@${sha}`) ?? this.files.get(`${repo}@*`);
  }
  async listOpenPullRequests(repo: string) {
    return this.open.get(repo) ?? [];
  }
  async permission(repo: string, user: string): Promise<RepoPermission> {
    return this.permissions.get(`${repo} ${user}`) ?? 'read';
  }
  async publish(report: StatusReport) {
    if (this.failPublishes > 0) {
      this.failPublishes--;
      throw new Error('API rate limit exceeded');
    }
    this.published.push(structuredClone(report));
  }
  async react(repo: string, commentId: number, reaction: '+1' | 'confused') {
    this.reactions.push({ repo, commentId, reaction });
  }
}

export class MemoryLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  debug(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, fields });
  }
  get text() {
    return this.lines.map((line) => `${line.message} ${JSON.stringify(line.fields ?? {})}`).join('\n');
  }
}
