/**
 * Headers only a browser sends, and sends on every fetch and form a web page makes (Origin on cross-origin
 * and non-GET requests, the Sec-Fetch-* set on every request of current browsers). GitHub's webhooks, the
 * AWS SDK and the CLI never send them: on a local listener meant for those, their presence means a web page
 * the user has open is calling, and it is refused whatever else the request carries.
 */
const BROWSER_HEADERS = ['origin', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest'] as const;

/** Whether a request (lowercase header names, as Node gives them) comes from a web page. */
export function fromBrowser(headers: Record<string, string | string[] | undefined>): boolean {
  return BROWSER_HEADERS.some((name) => headers[name] !== undefined);
}
