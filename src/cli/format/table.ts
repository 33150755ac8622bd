// Column alignment as Docker's CLI does it: text/tabwriter with minwidth 10, padding 3.
// Cells are tab-separated; the last cell of a line is never padded.

export function alignTable(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) {
    for (let i = 0; i < r.length - 1; i++) widths[i] = Math.max(widths[i] ?? 0, [...r[i]].length);
  }
  const out = rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(Math.max(minWidth, widths[i] + padding) - ([...cell].length - cell.length)) : cell)).join(''));
  return out.join('\n') + (trailingNewline ? '\n' : '');
}
