/**
 * Calls to moto for the services Matinee's code has no SDK client for (EC2, ACM, SQS): the stage's network
 * and certificate, which the stacks make, and the queues standing in for the functions EventBridge invokes.
 * moto does not check signatures; the Authorization header only names the service and region.
 */
export class MotoRaw {
  constructor(
    readonly endpoint: string,
    readonly region: string,
  ) {}

  private authorization(service: string): string {
    return `AWS4-HMAC-SHA256 Credential=testing/20260101/${this.region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
  }

  /** An AWS Query-protocol call (EC2); the response's XML. */
  async query(service: string, params: Record<string, string>): Promise<string> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        authorization: this.authorization(service),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(params).toString(),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto ${service} ${params.Action}: ${response.status} ${text}`);
    return text;
  }

  /** An AWS JSON-protocol call (ACM, SQS); the parsed response. */
  async json<T = Record<string, unknown>>(service: string, target: string, body: unknown): Promise<T> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        authorization: this.authorization(service),
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': target,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto ${target}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** The first `<tag>` value of an XML answer. */
  static xml(text: string, tag: string): string {
    const value = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text)?.[1];
    if (!value) throw new Error(`no <${tag}> in moto's answer: ${text.slice(0, 400)}`);
    return value;
  }
}

/** An SQS queue on moto, read as a Lambda's event source would be (each message once). */
export class MotoQueue {
  private constructor(
    private readonly raw: MotoRaw,
    readonly url: string,
    readonly arn: string,
  ) {}

  static async create(raw: MotoRaw, name: string): Promise<MotoQueue> {
    const { QueueUrl } = await raw.json<{ QueueUrl: string }>('sqs', 'AmazonSQS.CreateQueue', {
      QueueName: name,
    });
    const { Attributes } = await raw.json<{ Attributes: { QueueArn: string } }>(
      'sqs',
      'AmazonSQS.GetQueueAttributes',
      { QueueUrl, AttributeNames: ['QueueArn'] },
    );
    return new MotoQueue(raw, QueueUrl, Attributes.QueueArn);
  }

  /** Every message waiting now, removed from the queue; bodies parsed as the EventBridge events they are. */
  async drain(): Promise<unknown[]> {
    const events: unknown[] = [];
    for (;;) {
      const { Messages } = await this.raw.json<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(
        'sqs',
        'AmazonSQS.ReceiveMessage',
        { QueueUrl: this.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 },
      );
      if (!Messages?.length) return events;
      for (const message of Messages) {
        events.push(JSON.parse(message.Body));
        await this.raw.json('sqs', 'AmazonSQS.DeleteMessage', {
          QueueUrl: this.url,
          ReceiptHandle: message.ReceiptHandle,
        });
      }
    }
  }
}
