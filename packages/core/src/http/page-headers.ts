/** What a page or answer about a preview must never be: cached (its state changes by the second). */
export const noStore: Readonly<Record<string, string>> = { 'cache-control': 'no-store, max-age=0' };

/**
 * Matinee's pages are never shown inside another site's frame: a decoy over them would have a visitor's clicks
 * press their buttons (the dashboard's remove or rotate-link, a failed page's Try again).
 */
export const noFraming: Readonly<Record<string, string>> = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};
