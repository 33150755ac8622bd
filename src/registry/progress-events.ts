// What pull and push tell about their progress; the CLI renders it (bars on a terminal, plain
// lines otherwise, nothing with --quiet). Layer ids are the first 12 hex digits of the blob's digest.

export type LayerStatus =
  | 'Pulling fs layer' | 'Waiting' | 'Downloading' | 'Verifying Checksum' | 'Download complete' | 'Extracting' | 'Pull complete' | 'Already exists'
  | 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | `Mounted from ${string}`;

export interface ProgressSink {
  /** A line of its own ("latest: Pulling from library/busybox"). */
  line(text: string): void;
  /** A layer's status; `current`/`total` bytes while it moves. */
  layer(id: string, status: LayerStatus, current?: number, total?: number): void;
}
