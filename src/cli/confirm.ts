// Docker's "Are you sure you want to continue? [y/N]" prompt: the first line of stdin, yes or no.

export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(`${question} [y/N] `);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return /^y(es)?$/i.test(Buffer.concat(chunks).toString().split('\n')[0].trim());
}
