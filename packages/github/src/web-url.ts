/** https://github.com for api.github.com; a GitHub Enterprise Server's own address for its `/api/v3`. */
export function webUrlOf(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
}
