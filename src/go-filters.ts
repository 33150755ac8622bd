// Matching as the filters of Docker's daemon do (api/types/filters Args.Match), for the listings
// whose name or ID filter Docker takes as a regular expression: `network ls`, `volume ls`.

/** The value itself, or a regular expression found anywhere in TEXT; an invalid expression matches nothing. */
export function filterMatches(value: string, text: string): boolean {
  if (value === text) return true;
  try {
    return new RegExp(value).test(text);
  } catch {
    return false;
  }
}
