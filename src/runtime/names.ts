// Docker-style random container names, "adjective_surname" (after moby's namesgenerator: an
// adjective and a notable scientist or hacker; "boring_wozniak" is never generated).
import { randomBytes, randomInt } from '../random.js';

export const ADJECTIVES = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful',
  'blissful', 'bold', 'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent',
  'condescending', 'confident', 'cool', 'cranky', 'crazy', 'dazzling', 'determined', 'distracted',
  'dreamy', 'eager', 'ecstatic', 'elastic', 'elated', 'elegant', 'eloquent', 'epic', 'exciting',
  'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible',
  'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty',
  'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless',
  'quirky', 'quizzical', 'recursing', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp',
  'silly', 'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty',
  'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful',
  'xenodochial', 'youthful', 'zealous', 'zen',
];

export const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'almeida', 'archimedes', 'ardinghelli', 'aryabhata', 'austin',
  'babbage', 'banach', 'bardeen', 'bartik', 'bassi', 'bell', 'benz', 'bhabha', 'bhaskara', 'blackwell',
  'bohr', 'booth', 'borg', 'bose', 'boyd', 'brahmagupta', 'brattain', 'brown', 'carson', 'cerf',
  'chandrasekhar', 'clarke', 'colden', 'cori', 'cray', 'curie', 'darwin', 'davinci', 'dijkstra',
  'dubinsky', 'easley', 'edison', 'einstein', 'elion', 'engelbart', 'euclid', 'euler', 'fermat',
  'fermi', 'feynman', 'franklin', 'galileo', 'gates', 'goldberg', 'goldstine', 'goldwasser',
  'golick', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hermann', 'hodgkin', 'hofstadter',
  'hoover', 'hopper', 'hugle', 'hypatia', 'jackson', 'jang', 'jennings', 'jepsen', 'johnson',
  'joliot', 'jones', 'kalam', 'kapitsa', 'kare', 'keldysh', 'keller', 'kepler', 'khorana', 'kilby',
  'kirch', 'knuth', 'kowalevski', 'lalande', 'lamarr', 'lamport', 'leakey', 'leavitt', 'lehmann',
  'lewin', 'lichterman', 'liskov', 'lovelace', 'lumiere', 'mahavira', 'margulis', 'matsumoto',
  'maxwell', 'mayer', 'mccarthy', 'mcclintock', 'mclean', 'mcnulty', 'meitner', 'merkle', 'mestorf',
  'mirzakhani', 'montalcini', 'moore', 'morse', 'moser', 'napier', 'nash', 'neumann', 'newton',
  'nightingale', 'nobel', 'noether', 'northcutt', 'noyce', 'panini', 'pare', 'pascal', 'pasteur',
  'payne', 'perlman', 'pike', 'poincare', 'poitras', 'ptolemy', 'raman', 'ramanujan', 'rhodes',
  'ride', 'ritchie', 'robinson', 'roentgen', 'rosalind', 'rubin', 'saha', 'sammet', 'sanderson',
  'satoshi', 'shamir', 'shannon', 'shaw', 'shirley', 'shockley', 'sinoussi', 'snyder', 'spence',
  'stonebraker', 'sutherland', 'swanson', 'swartz', 'swirles', 'taussig', 'tesla', 'tharp',
  'thompson', 'torvalds', 'tu', 'turing', 'varahamihira', 'vaughan', 'villani', 'visvesvaraya',
  'volhard', 'wescoff', 'wilbur', 'wiles', 'williams', 'williamson', 'wilson', 'wing', 'wozniak',
  'wright', 'wu', 'yalow', 'yonath', 'zhukovsky',
];

function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)]!;
}

/** One random name; with `retry` > 0 a digit is appended, as moby does after a collision. */
export function randomName(retry = 0): string {
  for (;;) {
    const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
    if (name === 'boring_wozniak') continue; // Steve Wozniak is not boring
    return retry > 0 ? `${name}${randomInt(10)}` : name;
  }
}

/** A random name not taken yet (the caller's claim is still what guarantees uniqueness). */
export async function freshName(taken: (name: string) => Promise<boolean>): Promise<string> {
  for (let retry = 0; retry < 10; retry++) {
    const name = randomName(retry);
    if (!(await taken(name))) return name;
  }
  return `${randomName()}_${randomBytes(3).toString('hex')}`;
}
