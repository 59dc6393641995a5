import type { Edge } from './edge.ts';
import type { Functions } from './functions.ts';
import type { StageInput } from './settings.ts';

/** What `sst deploy` prints at the end: where to point GitHub, where previews and the dashboard live. */
export function outputs(input: StageInput, front: Edge, control: Functions) {
  return {
    /** The GitHub App's (or repository's) webhook URL; content type application/json. */
    webhookUrl: control.webhook.url,
    previewDomain: input.domain,
    dashboardUrl: `https://${input.domain}/`,
    albDnsName: front.loadBalancer.dnsName,
    ...(front.dnsRecords ? { dnsRecords: front.dnsRecords } : {}),
  };
}
