import { MatineeError, TransientError, UserError } from '@matinee/core';

const MIB = 1024 * 1024;
const SHA = /^[0-9a-f]{40}$/;
const REPO = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
/** GitHub answers with a redirect to codeload; a chain longer than this is not GitHub's. */
const MAX_REDIRECTS = 3;

/** `413 MB`: a size as the limit's message shows it. */
function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / MIB)} MB`;
}

function tooLarge(repo: string, sha: string, maxBytes: number): UserError {
  return new UserError(
    `the source of ${repo} at ${sha.slice(0, 7)} is larger than ${megabytes(maxBytes)}, the most Matinee downloads to build an image: make the repository smaller (large files in Git LFS are not downloaded), or build the image in your own CI and set \`image:\``,
  );
}

/** GitHub's status as an error that says what to do; never the URL (a redirect's carries a token). */
function failed(status: number, repo: string, sha: string): Error {
  const what = `GitHub refused the source of ${repo} at ${sha.slice(0, 7)}`;
  if (status === 429 || status >= 500) return new TransientError(`${what}: ${status}`);
  if (status === 404 || status === 403)
    return new UserError(
      `${what} (${status}): the commit is gone, or Matinee's GitHub App may not read contents`,
    );
  return new MatineeError(`${what}: ${status}`);
}

/**
 * The gzip'd tarball of `repo` at `sha` from GitHub's tarball endpoint, as a stream of chunks: the body is
 * read as it arrives and never held whole. The token goes to the API only: GitHub answers with a redirect to
 * a short-lived download address on another host (codeload), which is followed without the Authorization
 * header. A declared or counted size past `maxBytes` fails with a UserError naming the limit.
 */
export async function downloadTarball(options: {
  baseUrl: string;
  token: string;
  repo: string;
  sha: string;
  maxBytes: number;
  fetch?: typeof fetch;
}): Promise<AsyncIterable<Uint8Array>> {
  const { repo, sha, maxBytes } = options;
  if (!REPO.test(repo)) throw new MatineeError(`not a repository: ${JSON.stringify(repo)}`);
  if (!SHA.test(sha)) throw new MatineeError(`not a commit sha: ${JSON.stringify(sha)}`);
  const get = options.fetch ?? fetch;
  const api = `${options.baseUrl.replace(/\/+$/, '')}/repos/${repo}/tarball/${sha}`;
  const headers = { accept: 'application/vnd.github+json', 'user-agent': 'matinee' };

  let response = await get(api, {
    headers: { ...headers, authorization: `Bearer ${options.token}`, 'x-github-api-version': '2022-11-28' },
    redirect: 'manual',
  });
  let origin = new URL(api).origin;
  for (let hop = 0; response.status >= 300 && response.status < 400; hop++) {
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (!location || hop >= MAX_REDIRECTS) throw new MatineeError(`GitHub's tarball of ${repo} went nowhere`);
    const next = new URL(location, origin);
    // Never down from https (the API is https on GitHub and in every deployment; plain http is a test's loopback).
    if (next.protocol !== 'https:' && new URL(api).protocol === 'https:')
      throw new MatineeError(`GitHub's tarball of ${repo} redirected to a non-https address`);
    origin = next.origin;
    // Never the token: the address carries its own short-lived grant.
    response = await get(next, { headers, redirect: 'manual' });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw failed(response.status, repo, sha);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge(repo, sha, maxBytes);
  }
  return limited(response.body, maxBytes, () => tooLarge(repo, sha, maxBytes));
}

/** The body's chunks, failing (and cancelling the download) once they pass `maxBytes`. */
async function* limited(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  error: () => Error,
): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > maxBytes) throw error();
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
