/**
 * "Did you mean …?" for a misspelt setting or environment variable: the known names within a small edit
 * distance of what was typed, so a typo is named with its fix and a name from elsewhere gets no guess.
 */

/**
 * Optimal string alignment distance: an insertion, a deletion, a substitution or a swap of two neighbouring
 * characters each cost 1. Swaps count once because `LEVLE` for `LEVEL` is one slip of the fingers, not two.
 */
export function editDistance(from: string, to: string): number {
  // distances[i][j]: distance between the first i characters of `from` and the first j of `to`.
  const distances: number[][] = Array.from({ length: from.length + 1 }, (_, i) =>
    Array.from({ length: to.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= from.length; i++) {
    for (let j = 1; j <= to.length; j++) {
      const substitution = from[i - 1] === to[j - 1] ? 0 : 1;
      let best = Math.min(
        distances[i - 1]![j]! + 1,
        distances[i]![j - 1]! + 1,
        distances[i - 1]![j - 1]! + substitution,
      );
      if (i > 1 && j > 1 && from[i - 1] === to[j - 2] && from[i - 2] === to[j - 1]) {
        best = Math.min(best, distances[i - 2]![j - 2]! + 1);
      }
      distances[i]![j] = best;
    }
  }
  return distances[from.length]![to.length]!;
}

/**
 * The candidates nearest to `typed`, all of them when several are equally near, or none when even the nearest
 * differs in more than a third of its characters (at least one edit is always allowed). Case is ignored:
 * `groupID` for `groupId` is the typo this is for.
 */
export function closestNames(typed: string, candidates: readonly string[]): string[] {
  let nearest: string[] = [];
  let nearestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(typed.length, candidate.length) / 3));
    if (distance > allowed || distance > nearestDistance) continue;
    if (distance < nearestDistance) {
      nearest = [];
      nearestDistance = distance;
    }
    nearest.push(candidate);
  }
  return nearest;
}

/** `; did you mean X?` (or `X or Y`), or nothing when no candidate is near enough to be a likely fix. */
export function didYouMean(
  typed: string,
  candidates: readonly string[],
  quote = (name: string) => name,
): string {
  const nearest = closestNames(typed, candidates);
  return nearest.length === 0 ? '' : `; did you mean ${nearest.map(quote).join(' or ')}?`;
}
