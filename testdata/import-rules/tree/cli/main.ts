import { engine } from '../engine/index.js';

export async function main(): Promise<void> {
  const { format } = await import('./format.js');
  console.log(format(engine));
}
