/**
 * Headers only a browser sends, on every request a web page makes: current browsers send Sec-Fetch-Site
 * (with Sec-Fetch-Mode and Sec-Fetch-Dest) on all of them, and every browser sends Origin on a cross-origin
 * fetch and on a POST. GitHub's webhooks, the AWS SDK and curl never send them: on a local listener meant
 * for those, their presence means a web page the user has open is calling, and it is refused whatever
 * else the request carries.
 *
 * One exception: `Sec-Fetch-Mode: cors` alone is what Node's own fetch sends on every request (the CLI,
 * webhook forwarders such as smee-client). A browser's `cors` request always comes with Origin (and
 * Sec-Fetch-Site), so it is refused all the same.
 */
export function fromBrowser(headers: Record<string, string | string[] | undefined>): boolean {
  const mode = headers['sec-fetch-mode'];
  return (
    headers.origin !== undefined ||
    headers['sec-fetch-site'] !== undefined ||
    headers['sec-fetch-dest'] !== undefined ||
    headers['sec-fetch-user'] !== undefined ||
    (mode !== undefined && mode !== 'cors')
  );
}
