import type { EnvironmentRef, ImageBuilder, ImageBuildRequest, ImageBuildStatus } from '@matinee/core';

/**
 * An image builder in memory: `start` is idempotent per environment, sha and attempt as the port asks; a
 * test moves each build along with `set`, or forgets it to play a builder that lost it.
 */
export class FakeImageBuilder implements ImageBuilder {
  readonly started: ImageBuildRequest[] = [];
  readonly stopped: string[] = [];
  readonly statuses = new Map<string, ImageBuildStatus>();
  /** Thrown by the next `start`, once. */
  failStart?: Error;

  async start(request: ImageBuildRequest) {
    if (this.failStart) {
      const error = this.failStart;
      this.failStart = undefined;
      throw error;
    }
    const id = `build:${request.ref.id}:${request.sha.slice(0, 7)}:${request.attempt}`;
    if (!this.statuses.has(id)) {
      this.started.push(request);
      this.statuses.set(id, { state: 'queued', log: { url: `https://logs.example.com/${id}` } });
    }
    return { id, log: { url: `https://logs.example.com/${id}` } };
  }

  async status(id: string) {
    return this.statuses.get(id);
  }

  async stop(id: string) {
    this.stopped.push(id);
    const status = this.statuses.get(id);
    if (status && (status.state === 'queued' || status.state === 'building'))
      this.statuses.set(id, { state: 'failed', reason: 'stopped', logTail: [] });
  }

  imageOf(ref: EnvironmentRef, sha: string, container: string) {
    return `123456789012.dkr.ecr.eu-west-1.amazonaws.com/matinee-test:${ref.names.service}-${container}-${sha.slice(0, 12)}`;
  }

  /** The id of the last build started. */
  get last(): string {
    const request = this.started.at(-1);
    if (!request) throw new Error('no build started');
    return `build:${request.ref.id}:${request.sha.slice(0, 7)}:${request.attempt}`;
  }

  set(id: string, status: ImageBuildStatus) {
    this.statuses.set(id, status);
  }
}
