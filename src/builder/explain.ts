// `strata build --explain`: every step's key and the inputs it hashes, readable.
import type { PreparedStage } from './prepare.js';

export function explainText(stages: PreparedStage[]): string {
  const lines: string[] = [];
  for (const s of stages) {
    lines.push(`stage ${s.label}: ${s.fromDisplay}`);
    for (const step of s.steps) {
      const { files, ...rest } = step.inputs;
      lines.push(`  ${step.display}`, `    key ${step.key}`);
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) lines.push(`    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (files) {
        const names = Object.keys(files).sort();
        lines.push(`    files: ${names.length}`);
        for (const n of names.slice(0, 20)) lines.push(`      ${n} ${files[n]}`);
        if (names.length > 20) lines.push(`      ... ${names.length - 20} more`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
