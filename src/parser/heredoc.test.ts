// Heredocs: markers, quoting, several per line, fd prefixes, `<<-`, ONBUILD, errors.
// Expected values were checked against BuildKit's parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, ParseError } from './index.js';
import { messages } from './errors.js';
import { heredocsFromLine, parseHeredocWord } from './heredoc.js';
import type { Heredoc } from './types.js';

const heredocs = (text: string): Heredoc[][] => parse(text).instructions.map((i) => (i.onbuild ?? i).heredocs);

test('a RUN heredoc body ends at its terminator line', () => {
  const df = parse('FROM a\nRUN <<EOF\n# not a comment\necho "$HOME"\n\nEOF\nRUN after\n');
  assert.deepEqual(df.instructions[1]!.heredocs, [{ name: 'EOF', content: '# not a comment\necho "$HOME"\n\n', expand: true, chomp: false }]);
  assert.deepEqual(df.instructions.map((i) => [i.startLine, i.endLine]), [[1, 1], [2, 6], [7, 7]]);
  assert.deepEqual(df.instructions[1]!.args, ['<<EOF']);
  assert.equal(df.instructions[1]!.original, 'RUN <<EOF\n# not a comment\necho "$HOME"\n\nEOF');
});

test('several heredocs on one line are read one after the other', () => {
  assert.deepEqual(heredocs('COPY <<X <<Y /dest\nY\nX\nX\nY\n')[0], [
    { name: 'X', content: 'Y\n', expand: true, chomp: false },
    { name: 'Y', content: 'X\n', expand: true, chomp: false },
  ]);
});

test('quoting any part of the delimiter turns expansion off', () => {
  const cases: [string, string, boolean][] = [
    ["<<'EOF'", 'EOF', false],
    ['<<"EOF"', 'EOF', false],
    ["<<eo'f'", 'eof', false],
    ["<<eo\\'f", "eo'f", true],
    ["<<'e'o\\'f", "eo'f", false],
    ["<<'one two'", 'one two', false],
    ['<<$EOF', '$EOF', true],
    ['<<EOF', 'EOF', true],
  ];
  for (const [marker, name, expand] of cases) {
    const [doc] = heredocs(`RUN ${marker}\nbody\n${name}\n`)[0]!;
    assert.deepEqual(doc && { name: doc.name, expand: doc.expand }, { name, expand }, marker);
  }
});

test('<<- strips leading tabs from the body and the terminator', () => {
  assert.deepEqual(heredocs('RUN <<-EOT bash\n\techo a\n\t\techo b\n\tEOT\n')[0], [{ name: 'EOT', content: 'echo a\necho b\n', expand: true, chomp: true }]);
});

test('a file descriptor prefix is kept', () => {
  assert.deepEqual(heredocs('RUN 3<<X cat /dev/fd/3\nx\nX\n')[0], [{ name: 'X', content: 'x\n', expand: true, chomp: false, fileDescriptor: 3 }]);
});

test('blanks after << belong to the marker; text after the word does not', () => {
  assert.deepEqual(heredocs('RUN <<  EOF  > foo\nEOF\nRUN cat <<EOF | sh\nx\nEOF\n'), [
    [{ name: 'EOF', content: '', expand: true, chomp: false }],
    [{ name: 'EOF', content: 'x\n', expand: true, chomp: false }],
  ]);
});

test('no heredocs in JSON form, in quotes, or on other instructions', () => {
  // Lenient mode, so the would-be terminator line shows up as an instruction of its own.
  const df = parse('RUN ["<<EOF"]\nRUN echo "<<EOF"\nUSER <<EOF\nEOF\n', { strict: false });
  assert.deepEqual(df.instructions.map((i) => i.keyword), ['RUN', 'RUN', 'USER', 'EOF']);
  assert.ok(df.instructions.every((i) => i.heredocs.length === 0));
  assert.equal(df.instructions[0]!.json, true);
});

test('an ONBUILD trigger carries its heredocs', () => {
  const df = parse('ONBUILD RUN <<Z\nz\nZ\nRUN x\n');
  assert.deepEqual(df.instructions[0]!.heredocs, []);
  assert.deepEqual(df.instructions[0]!.onbuild!.heredocs, [{ name: 'Z', content: 'z\n', expand: true, chomp: false }]);
  assert.deepEqual(df.instructions[0]!.onbuild!.args, ['<<Z']);
  assert.equal(df.instructions[1]!.startLine, 4);
});

test('an unterminated heredoc is a ParseError at its marker', () => {
  assert.throws(
    () => parse('FROM a\nRUN echo && \\\n  cat <<EOF\nnever ends\n'),
    (err: unknown) => err instanceof ParseError && err.message === messages.unterminatedHeredoc() && err.line === 3 && err.column === 7 && err.endLine === 4,
  );
});

test('heredoc markers as BuildKit reads single words', () => {
  for (const word of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredocWord(word)?.name, 'EOF', word);
  }
  for (const word of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredocWord(word), undefined, word);
  for (const word of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredocWord(word), word);
  assert.deepEqual(heredocsFromLine('RUN <<EOF <<EOF2').map((h) => h.name), ['EOF', 'EOF2']);
  assert.deepEqual(heredocsFromLine("RUN '<<EOF'"), []);
  assert.deepEqual(heredocsFromLine('RUN << -EOF').map((h) => h.name), ['-EOF']);
});
