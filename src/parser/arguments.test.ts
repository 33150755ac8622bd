// How each instruction splits its arguments: flags, JSON and its fallback, name/value pairs,
// ONBUILD, HEALTHCHECK. Expected values were checked against BuildKit's parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from './index.js';
import { renderInstruction } from './render.js';
import { messages } from './errors.js';

const one = (line: string) => parse(line).instructions[0]!;
const shown = (line: string) => renderInstruction(one(line));

test('flags: --name=value and --name are kept raw and in order; -- ends them', () => {
  assert.deepEqual(one('COPY --from=build --link --chmod=755 a b').flags, ['--from=build', '--link', '--chmod=755']);
  assert.equal(shown('COPY --doit=true -- --not-a-flag /tmp/'), '(copy ["--doit=true"] "--not-a-flag" "/tmp/")');
  assert.equal(shown('COPY -- foo /tmp/'), '(copy "foo" "/tmp/")');
  assert.equal(shown('COPY -x foo /tmp/'), '(copy "-x" "foo" "/tmp/")');
  // quotes group and disappear, a backslash escapes, in flags only
  assert.equal(shown('COPY --chown="a b" --from=x\\ y -- c d'), '(copy ["--chown=a b" "--from=x y"] "c" "d")');
  assert.equal(shown('RUN --mount=type=cache,target=/root/.cache "--y" z'), '(run ["--mount=type=cache,target=/root/.cache"] "\\"--y\\" z")');
  assert.equal(shown('CMD --doit -- [ ]'), '(cmd ["--doit"])');
  assert.equal(shown('FROM --platform=$BUILDPLATFORM golang AS build'), '(from ["--platform=$BUILDPLATFORM"] "golang" "AS" "build")');
});

test('exec form: a JSON array of strings; anything else that is not JSON is shell form', () => {
  const exec = one('ENTRYPOINT ["/bin/sh", "-c", "echo \\"hi\\" \\u00e9"]');
  assert.deepEqual([exec.args, exec.json], [['/bin/sh', '-c', 'echo "hi" é'], true]);
  const shell = one("CMD ['single', 'quotes']");
  assert.deepEqual([shell.args, shell.json], [["['single', 'quotes']"], false]);
  assert.deepEqual(one('CMD ["unterminated"').args, ['["unterminated"']);
  assert.deepEqual(one('CMD []').args, []);
  // numbers beyond float64 fail Go's decoder: shell form, not an error
  assert.deepEqual(one('CMD ["a", 1e400]').args, ['["a", 1e400]']);
  // nesting deeper than Go's decoder allows (10000) is shell form too
  assert.deepEqual(one(`CMD ${'['.repeat(10001)}${']'.repeat(10001)}`).json, false);
  assert.throws(() => parse(`CMD ${'['.repeat(10000)}${']'.repeat(10000)}`), { message: messages.notStringArray() });
  assert.throws(() => parse('CMD ["a", 1]'), { message: messages.notStringArray() });
  assert.throws(() => parse('RUN [ "echo", [ "nested" ] ]'), { message: messages.notStringArray() });
  assert.deepEqual(one('COPY ["test file", "/tmp/x y"]').args, ['test file', '/tmp/x y']);
  assert.deepEqual(one('VOLUME /a\t/b  /c').args, ['/a', '/b', '/c']);
});

test('ENV and LABEL give name/value/separator triples, quotes and escapes kept', () => {
  assert.deepEqual(one('ENV a=1 b="x y" c=x\\ y').args, ['a', '1', '=', 'b', '"x y"', '=', 'c', 'x\\ y', '=']);
  assert.deepEqual(one('ENV PATH /usr/bin:$PATH  more').args, ['PATH', '/usr/bin:$PATH  more', '']);
  assert.deepEqual(one("LABEL \"a b\"='c d' e=").args, ['"a b"', "'c d'", '=', 'e', '', '=']);
  assert.throws(() => parse('ENV PATH'), { message: messages.twoArguments('ENV'), line: 1, column: 5 });
  assert.throws(() => parse('LABEL a=b c'), { message: messages.missingEquals('"c"') });
  assert.throws(() => parse('ENV =x'), { message: messages.blankNames('ENV') });
});

test('ARG keeps its words as written', () => {
  assert.deepEqual(one('ARG foo bar=baz "q r"=s').args, ['foo', 'bar=baz', '"q r"=s']);
  assert.throws(() => parse('ARG =x'), { message: messages.blankNames('ARG') });
});

test('ONBUILD nests its trigger; chains and FROM/MAINTAINER triggers are refused', () => {
  const onbuild = one('ONBUILD --f=1 COPY --from=x a b');
  assert.deepEqual([onbuild.keyword, onbuild.flags, onbuild.args], ['ONBUILD', ['--f=1'], []]);
  assert.equal(renderInstruction(onbuild), '(onbuild ["--f=1"] (copy ["--from=x"] "a" "b"))');
  assert.throws(() => parse('ONBUILD ONBUILD RUN x'), { message: messages.onbuildChain() });
  assert.throws(() => parse('ONBUILD from x'), { message: messages.onbuildTrigger('FROM') });
  assert.throws(() => parse('ONBUILD MAINTAINER me'), { message: messages.onbuildTrigger('MAINTAINER') });
  assert.throws(() => parse('ONBUILD'), { message: messages.atLeastOneArgument('ONBUILD') });
});

test('HEALTHCHECK: a type word, then the command like RUN', () => {
  assert.equal(shown('HEALTHCHECK --interval=5s CMD curl -f http://x/ || exit 1'), '(healthcheck ["--interval=5s"] "CMD" "curl -f http://x/ || exit 1")');
  const exec = one('HEALTHCHECK CMD ["curl", "-f"]');
  assert.deepEqual([exec.args, exec.json], [['CMD', 'curl', '-f'], true]);
  assert.equal(shown('HEALTHCHECK NONE'), '(healthcheck "NONE")');
  assert.throws(() => parse('HEALTHCHECK NONE now'), { message: messages.healthcheckNone() });
});

test('whole-text instructions keep their text; the rest check their argument counts', () => {
  assert.deepEqual(one('WORKDIR /a b').args, ['/a b']);
  assert.deepEqual(one('USER app:app').args, ['app:app']);
  assert.deepEqual(one('MAINTAINER Me <me@example.com>').args, ['Me <me@example.com>']);
  assert.throws(() => parse('WORKDIR'), { message: messages.exactlyOneArgument('WORKDIR') });
  assert.throws(() => parse('FROM a b'), { message: messages.fromArguments() });
  assert.throws(() => parse('FROM a AS 1x'), { message: messages.stageName('"1x"') });
  assert.throws(() => parse('COPY a'), { message: messages.noDestination('COPY') });
  assert.throws(() => parse('COPY a <<EOF\nEOF\n'), { message: messages.heredocDestination('COPY') });
  assert.throws(() => parse('EXPOSE'), { message: messages.atLeastOneArgument('EXPOSE') });
  assert.throws(() => parse('VOLUME [""]'), { message: messages.emptyVolume() });
  assert.throws(() => parse('SHELL /bin/sh -c'), { message: messages.shellNotJson() });
  assert.deepEqual(one('SHELL ["/bin/bash", "-o", "pipefail", "-c"]').args, ['/bin/bash', '-o', 'pipefail', '-c']);
});
