import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { MatineeError, TransientError } from '@matinee/core';
import * as z from 'zod/mini';
import { aws } from './errors.ts';
import type { JanitorRequest, VolumeJanitor } from './volume-janitor.ts';

export interface LambdaJanitorOptions {
  lambda: LambdaClient;
  /** Name or ARN of the stage's volume janitor function. */
  functionName: string;
}

const listed = z.array(z.object({ dir: z.string(), tags: z.record(z.string(), z.string()) }));

/**
 * The `VolumeJanitor` as the stage's janitor function, invoked and waited for (RequestResponse): when a call
 * returns, the data is gone. A function error (the janitor threw, or timed out mid-delete) is transient: the
 * next call starts over, and deleting what is already deleted is done.
 */
export class LambdaVolumeJanitor implements VolumeJanitor {
  constructor(private readonly options: LambdaJanitorOptions) {}

  async claim(dir: string, tags: Record<string, string>): Promise<void> {
    await this.invoke({ action: 'claim', dir, tags });
  }

  async empty(volumeDirs: string[]): Promise<void> {
    if (volumeDirs.length) await this.invoke({ action: 'empty', dirs: volumeDirs });
  }

  async remove(dir: string): Promise<void> {
    await this.invoke({ action: 'remove', dir });
  }

  async list(): Promise<{ dir: string; tags: Record<string, string> }[]> {
    return listed.parse((await this.invoke({ action: 'list' })) ?? []);
  }

  private async invoke(request: JanitorRequest): Promise<unknown> {
    const call = `Invoke ${this.options.functionName} ${request.action}`;
    const { FunctionError, Payload } = await aws(call, () =>
      this.options.lambda.send(
        new InvokeCommand({
          FunctionName: this.options.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(request)),
        }),
      ),
    );
    const text = Payload ? new TextDecoder().decode(Payload) : '';
    if (FunctionError) {
      // The payload is Lambda's error report ({ errorType, errorMessage }): the janitor's own words.
      const report = safeJson(text) as { errorType?: string; errorMessage?: string } | undefined;
      throw new TransientError(
        `${call}: the volume janitor failed (${report?.errorType ?? FunctionError}: ${report?.errorMessage ?? 'no message'}); it is tried again`,
      );
    }
    if (!text || text === 'null') return undefined;
    const value = safeJson(text);
    if (value === undefined)
      throw new MatineeError(`${call}: the janitor answered something other than JSON`);
    return value;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
