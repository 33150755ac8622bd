// `strata events` from the event log and the containers' records: tag, untag, delete, build,
// a container's create/start/die (and destroy, from the log, once removed), Docker's line format, filters, --since/--until, --format, and
// following new events as they come.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/index.js';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';

after(closeHashPool);

describe('events', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let id: string;
  const strata = (args: string[]) => {
    const r = runStrata(args, { root, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = tempDir('strata-events-');
    root = path.join(t.dir, 'root');
    id = (await ensureBusybox(await openStore(root))).id;
    strata(['tag', 'busybox', 'localhost/a:1']);
    strata(['rmi', 'localhost/a:1']);
    assert.equal(runStrata(['run', '--name', 'ev', 'busybox', 'sh', '-c', 'exit 3'], { root }).status, 3);
    const ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo x > /x\n');
    strata(['build', '-q', '-t', 'built:1', ctx]);
    strata(['rmi', 'built:1']);
    // A removed container's life stays in the log, with its destroy.
    assert.equal(runStrata(['run', '--rm', '--name', 'gone', '-l', 'tier=web', 'busybox', 'sh', '-c', 'exit 4'], { root }).status, 4);
  });
  after(() => t.cleanup());

  it('lists past events oldest first in Docker\'s format', () => {
    const lines = strata(['events', '--stream=false']).trimEnd().split('\n');
    const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z';
    assert.match(lines[0]!, new RegExp(`^${time} image tag ${id} \\(name=localhost/a:1\\)$`));
    assert.match(lines[1]!, new RegExp(`^${time} image untag ${id} \\(name=localhost/a:1\\)$`));
    assert.match(lines[2]!, new RegExp(`^${time} container create [0-9a-f]{64} \\(image=busybox, name=ev\\)$`));
    assert.match(lines[3]!, /container start [0-9a-f]{64} \(image=busybox, name=ev\)$/);
    assert.match(lines[4]!, /container die [0-9a-f]{64} \(exitCode=3, image=busybox, name=ev\)$/);
    assert.match(lines[5]!, /image tag sha256:[0-9a-f]{64} \(name=built:1\)$/);
    assert.match(lines[6]!, /image untag sha256:[0-9a-f]{64} \(name=built:1\)$/);
    assert.match(lines[7]!, /image delete sha256:[0-9a-f]{64}$/);
    // A container's labels are among its events' attributes, as Docker's.
    assert.match(lines[8]!, /container create [0-9a-f]{64} \(image=busybox, name=gone, tier=web\)$/);
    assert.match(lines[9]!, /container start [0-9a-f]{64} \(image=busybox, name=gone, tier=web\)$/);
    assert.match(lines[10]!, /container die [0-9a-f]{64} \(exitCode=4, image=busybox, name=gone, tier=web\)$/);
    assert.match(lines[11]!, /container destroy [0-9a-f]{64} \(image=busybox, name=gone, tier=web\)$/);
    assert.equal(lines.length, 12, lines.join('\n'));
  });

  it('filters by type, event, image and container; --since and --until bound the time; --format', () => {
    assert.equal(strata(['events', '--until', '0s', '--filter', 'type=container', '--format', '{{.Action}}']), 'create\nstart\ndie\ncreate\nstart\ndie\ndestroy\n');
    assert.equal(strata(['events', '--until', '0s', '-f', 'event=tag', '-f', 'event=delete', '--format', '{{.Type}} {{.Action}}']), 'image tag\nimage tag\nimage delete\n');
    assert.equal(strata(['events', '--until', '0s', '-f', 'image=localhost/a', '--format', '{{.Action}}']), 'tag\nuntag\n');
    assert.equal(strata(['events', '--until', '0s', '-f', 'container=ev', '-f', 'event=die', '--format', '{{.Actor.Attributes.exitCode}}']), '3\n');
    assert.equal(strata(['events', '--since', '1h', '--until', '0s', '-f', 'type=image', '--format', '{{.Action}}']).split('\n').length, 6);
    assert.equal(strata(['events', '--since', '2030-01-01T00:00:00Z', '--stream=false']), '');
    const json = JSON.parse(strata(['events', '--until', '0s', '-f', 'event=die', '-f', 'container=ev', '--format', '{{json .}}'])) as Record<string, unknown>;
    // moby's events.Message: its json tags, in its field order
    assert.deepEqual(Object.keys(json), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    assert.deepEqual([json.status, json.from, json.scope, Object.keys(json.Actor as object)], ['die', 'busybox', 'local', ['ID', 'Attributes']]);
    const tag = JSON.parse(strata(['events', '--until', '0s', '-f', 'event=tag', '--format', '{{json .}}']).split('\n')[0]!) as Record<string, unknown>;
    assert.equal('from' in tag, false, 'an image event has no from');
    assert.equal(strata(['events', '--until', '0s', '-f', 'label=tier=web', '-f', 'event=die', '--format', '{{.Actor.Attributes.name}}']), 'gone\n');
    assert.equal(strata(['events', '--until', '0s', '-f', 'label=tier=db']), '');
    const bad = runStrata(['events', '--until', '0s', '-f', 'bogus=1'], { root });
    assert.deepEqual([bad.status, bad.stderr], [125, 'Error: invalid filter "bogus": strata supports type, event, image, container, label, network, volume\n']);
  });

  it('follows: an event that happens after the past ones were listed is printed', async () => {
    const follower = spawnStrata(['events', '-f', 'event=tag', '--format', '{{.Actor.Attributes.name}}'], { root });
    let text = '';
    const waiters: (() => void)[] = [];
    follower.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      for (const w of waiters) w();
    });
    const waitFor = (line: string) => new Promise<void>((resolve) => {
      const check = () => text.includes(`${line}\n`) && resolve();
      waiters.push(check);
      check();
    });
    try {
      await waitFor('built:1'); // the past is listed: what comes now is followed
      strata(['tag', 'busybox', 'localhost/later:1']);
      await waitFor('localhost/later:1');
      assert.equal(text, 'localhost/a:1\nbuilt:1\nlocalhost/later:1\n');
    } finally {
      follower.kill('SIGKILL');
    }
  });
});
