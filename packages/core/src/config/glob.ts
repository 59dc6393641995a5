/** Branch glob: `*` is any run of characters (slashes included), `?` one character; the rest is literal. */
export function matchesGlob(value: string, glob: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(value);
}
