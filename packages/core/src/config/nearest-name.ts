/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name a mistyped one most likely meant (`healthcheck` → `health`, `PROT` → `PORT`), only when that
 * is obvious: a couple of edits away, or one name starting with the other, and no other name as close.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const typed = name.toLowerCase();
  const close = known.flatMap((candidate) => {
    const other = candidate.toLowerCase();
    const distance = editDistance(typed, other);
    const shorter = Math.min(typed.length, other.length);
    const prefix = shorter >= 3 && (typed.startsWith(other) || other.startsWith(typed));
    const edits = shorter <= 3 ? 0 : shorter <= 5 ? 1 : 2;
    return distance <= edits || prefix ? [{ candidate, distance }] : [];
  });
  const best = Math.min(...close.map((c) => c.distance));
  const winners = close.filter((c) => c.distance === best);
  return winners.length === 1 ? winners[0]?.candidate : undefined;
}
