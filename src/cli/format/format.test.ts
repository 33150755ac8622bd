import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJson, goStringer, goStruct, goTyped, formatRows, parseTemplate, resolveFormat } from './template.js';
import { humanDuration, humanSize, timeAgo, goTime, shortId } from './human.js';
import { alignTable } from './table.js';

test('human sizes match go-units', () => {
  const cases: [number, string][] = [[0, '0B'], [123, '123B'], [1234, '1.23kB'], [4_261_000, '4.26MB'], [12_345_678, '12.3MB'], [999_999, '1e+03kB'], [1_000_000_000, '1GB']];
  for (const [n, s] of cases) assert.equal(humanSize(n), s, String(n));
});

test('human durations match go-units', () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  const cases: [number, string][] = [[500, 'Less than a second'], [s, '1 second'], [42 * s, '42 seconds'], [90 * s, 'About a minute'], [2 * m, '2 minutes'], [59 * m, '59 minutes'], [h, 'About an hour'], [5 * h, '5 hours'], [47 * h, '47 hours'], [3 * d, '3 days'], [15 * d, '2 weeks'], [70 * d, '2 months'], [800 * d, '2 years']];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
  assert.equal(timeAgo(new Date(Date.now() - 3 * m)), '3 minutes ago');
  assert.equal(goTime('2024-01-01T00:00:00Z'), '2024-01-01 00:00:00 +0000 UTC');
  assert.equal(shortId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
});

test('templates: fields, json, functions, escapes', () => {
  const row = { Repository: 'busybox', Tag: 'latest', Labels: { a: '<b>' }, Names: ['x', 'y'] };
  assert.equal(parseTemplate('{{.Repository}}:{{.Tag}}').render(row), 'busybox:latest');
  assert.equal(parseTemplate('{{json .Labels}}').render(row), '{"a":"\\u003cb\\u003e"}');
  assert.equal(parseTemplate('{{json .}}').render({ b: 1, a: 2 }), '{"a":2,"b":1}');
  assert.equal(parseTemplate('{{upper .Tag}}|{{truncate .Repository 3}}|{{join .Names ","}}').render(row), 'LATEST|bus|x,y');
  assert.equal(parseTemplate('{{.Repository}}\\t{{.Tag}}').render(row), 'busybox\tlatest');
  assert.throws(() => parseTemplate('{{.Nope}}').render(row), /can't evaluate field Nope/);
  assert.throws(() => parseTemplate('{{bogus .Tag}}'), /function "bogus" not defined/);
});

test('table formats get a header and Docker-aligned columns', () => {
  const out = formatRows('table {{.Repository}}\\t{{.Tag}}', [{ Repository: 'busybox', Tag: 'latest' }, { Repository: 'localhost/a-long-name', Tag: '1' }], { Repository: 'REPOSITORY', Tag: 'TAG' });
  assert.equal(out, 'REPOSITORY              TAG\nbusybox                 latest\nlocalhost/a-long-name   1\n');
  assert.equal(alignTable('A\tB\nxx\ty\n'), 'A         B\nxx        y\n');
  assert.equal(goJson({ x: '&' }), '{"x":"\\u0026"}');
});

test("--format shorthands: none and table give the command's table, json one object a line", () => {
  const dflt = 'table {{.ID}}';
  assert.equal(resolveFormat(undefined, dflt), dflt);
  assert.equal(resolveFormat('table', dflt), dflt);
  assert.equal(resolveFormat('json', dflt), '{{json .}}');
  assert.equal(resolveFormat('table {{.Tag}}', dflt), 'table {{.Tag}}');
  assert.equal(formatRows(resolveFormat('json', dflt), [{ ID: 'a' }, { ID: 'b' }], {}), '{"ID":"a"}\n{"ID":"b"}\n');
});

test('templates: range, index, if/else, with, variables, pipelines and builtins as Go runs them', () => {
  const c = {
    Name: '/web', State: { Running: true, Pid: 0 }, Config: { Labels: { k: 'v', a: 'b' }, Env: ['A=1', 'B=2'] },
    NetworkSettings: { Networks: { bridge: { IPAddress: '172.19.0.2' }, other: { IPAddress: '10.0.0.3' } } }, Mounts: [],
  };
  const r = (f: string) => parseTemplate(f).render(c);
  assert.equal(r('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}'), '172.19.0.2 10.0.0.3 ');
  assert.equal(r('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'a=b;k=v;');
  assert.equal(r('{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}'), '0:A=1 1:B=2 ');
  assert.equal(r('{{range .Mounts}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{index .Config.Labels "k"}}|{{len .Config.Env}}|{{printf "%-5s|%03d" .Name 7}}'), 'v|2|/web |007');
  assert.equal(r('{{if .State.Running}}up{{else}}down{{end}} {{if .State.Pid}}pid{{else if .Name}}named{{else}}-{{end}}'), 'up named');
  assert.equal(r('{{with .Config.Labels}}{{.k}}{{end}}{{with .Mounts}}never{{else}}!{{end}}'), 'v!');
  assert.equal(r('{{.Name | upper}} {{json .Config.Env | len}} {{$.Name}} {{$n := .Name}}{{$n}}'), '/WEB 13 /web /web');
  assert.equal(r('{{if and .State.Running (eq .Name "/web") (not .State.Pid)}}ok{{end}} {{join (split "a,b" ",") "+"}}'), 'ok a+b');
  assert.equal(r('{{- /* comment */ -}}  {{- .Name -}}  !'), '/web!');
  // Strings compare as Go's do, bytewise: "B" before "a", "a10" before "a9".
  assert.equal(r('{{lt "B" "a"}} {{gt "a10" "a9"}} {{le "é" "z"}} {{lt .Name "/x"}}'), 'true false false true');
  assert.equal(parseTemplate('{{.Label "k"}}').render({ Label: (k: string) => `label ${k}` }), 'label k');
  // A field of a parenthesized pipeline's value, as `network inspect -f '{{(index .IPAM.Config 0).Gateway}}'`.
  const net = { IPAM: { Config: [{ Subnet: '10.1.0.0/16', Gateway: '10.1.0.1', Aux: { A: 'x' } }] } };
  assert.equal(parseTemplate('{{(index .IPAM.Config 0).Gateway}} {{(index .IPAM.Config 0).Aux.A}} {{len (index .IPAM.Config 0).Subnet}}').render(net), '10.1.0.1 x 11');
});

test('templates: syntax errors are one line, at parse time', () => {
  for (const [f, msg] of [['{{.Foo', /unclosed action/], ['{{if .A}}x', /unexpected EOF/], ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{bogus .Tag}}', /function "bogus" not defined/], ['{{toString .A}}', /function "toString" not defined/], ['{{json (.A}}', /unclosed left paren/]] as const) {
    assert.throws(() => parseTemplate(f), (e: Error) => e.name === 'StrataError' && msg.test(e.message) && !e.message.includes('\n'), f);
  }
  assert.equal(parseTemplate('table {{.ID}}\\t{{if .X}}{{.X}}{{end}}\\t{{upper .Name}}').header({ ID: 'CONTAINER ID' }), 'CONTAINER ID\t\tNAME');
});

test("templates print a struct as Go's fmt (fields in order, in braces) and a map with its keys sorted; json keeps a struct's order", () => {
  const hostConfig = goStruct({ LogConfig: goStruct({ Type: 'json-file', Config: goTyped('nil-map') }), RestartPolicy: goStruct({ Name: 'no', MaximumRetryCount: 0 }) });
  const state = goStruct({ Status: 'exited', Running: false, Pid: 0, Error: '', Health: goTyped('nil-pointer') });
  const c = { HostConfig: hostConfig, State: state, Labels: { z: '1', a: '2' } };
  const r = (f: string) => parseTemplate(f).render(c);
  assert.equal(r('{{.HostConfig.LogConfig}}|{{.HostConfig.RestartPolicy}}|{{.HostConfig}}'), '{json-file map[]}|{no 0}|{{json-file map[]} {no 0}}');
  assert.equal(r('{{.State}}'), '{exited false 0  <nil>}');
  assert.equal(r('{{.Labels}}'), 'map[a:2 z:1]');
  assert.equal(r('{{json .State}}'), '{"Status":"exited","Running":false,"Pid":0,"Error":"","Health":null}');
  assert.equal(r('{{json .Labels}}'), '{"a":"2","z":"1"}');
  // an omitempty field (not enumerable: not in the JSON) is still a field of the struct
  const withOmitted = goStruct(Object.defineProperty({ A: 1 }, 'B', { value: '', enumerable: false }));
  assert.deepEqual([parseTemplate('{{.}}').render(withOmitted), parseTemplate('{{json .}}').render(withOmitted)], ['{1 }', '{"A":1}']);
});

test('a value with a String method (time.Duration) prints its text; json, comparisons and %d see its number; omitempty drops its zero', () => {
  const health = goStruct({ Test: ['CMD', 'true'], Interval: goStringer(2e9, '2s'), Timeout: goStringer(0, '0s'), Retries: 0 }, { Interval: ',omitempty', Timeout: ',omitempty', Retries: ',omitempty' });
  const r = (f: string) => parseTemplate(f).render({ Health: health });
  assert.equal(r('{{.Health}} {{.Health.Interval}}'), '{[CMD true] 2s 0s 0} 2s');
  assert.equal(r('{{json .Health}} {{json .Health.Interval}}'), '{"Test":["CMD","true"],"Interval":2000000000} 2000000000');
  assert.equal(r('{{printf "%d|%v|%s" .Health.Interval .Health.Interval .Health.Interval}}'), '2000000000|2s|2s');
  assert.equal(r('{{eq .Health.Interval 2000000000}} {{gt .Health.Interval 1000}} {{if .Health.Timeout}}set{{else}}zero{{end}}'), 'true true zero');
});
