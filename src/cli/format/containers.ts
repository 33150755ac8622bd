// `ps` output as Docker prints it: its columns, its relative times ("Up 3 seconds",
// "Exited (0) 2 minutes ago"), its truncation of IDs and commands, and a --format subset.
import type { ContainerRecord, ContainerState } from '../../store/containers.js';

/** go-units HumanDuration, which Docker uses for CREATED and STATUS. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

function since(time: string, now: number): string {
  return humanDuration(Math.max(0, now - Date.parse(time)));
}

export function statusText(state: ContainerState, now = Date.now()): string {
  switch (state.Status) {
    case 'running':
      return `Up ${since(state.StartedAt, now)}`;
    case 'paused':
      return `Up ${since(state.StartedAt, now)} (Paused)`;
    case 'restarting':
      return `Restarting (${state.ExitCode}) ${since(state.FinishedAt, now)} ago`;
    case 'exited':
      return `Exited (${state.ExitCode}) ${since(state.FinishedAt, now)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

/** Go's strconv.Quote for the printable ASCII a command holds. */
function goQuote(text: string): string {
  return JSON.stringify(text).replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h}`);
}

function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  State: string;
  Ports: string;
  Names: string;
  Labels: string;
  Mounts: string;
}

export function psRow(record: ContainerRecord, state: ContainerState, options: { noTrunc: boolean; ports?: string; now?: number }): PsRow {
  const now = options.now ?? Date.now();
  const command = [record.Path, ...record.Args].join(' ');
  let image = record.Config.Image || record.Image;
  if (!options.noTrunc && /^sha256:[0-9a-f]{64}$/.test(image)) image = image.slice(7, 19);
  return {
    ID: options.noTrunc ? record.Id : record.Id.slice(0, 12),
    Image: image,
    Command: goQuote(options.noTrunc ? command : ellipsis(command, 20)),
    CreatedAt: new Date(record.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${since(record.Created, now)} ago`,
    Status: statusText(state, now),
    State: state.Status,
    Ports: options.ports ?? '',
    Names: record.Name.replace(/^\//, ''),
    Labels: Object.entries(record.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: record.Mounts.map((m) => m.Name ?? m.Source).join(','),
  };
}

const HEADERS: Record<keyof PsRow, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Status: 'STATUS', State: 'STATE', Ports: 'PORTS', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS',
};

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** Docker's tabwriter (minwidth 10, padding 3): a column is its widest cell plus 3, at least 10; the last unpadded. */
export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 10, [...cell].length + 3)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}

/** Renders rows with a Go-template subset: `{{.Field}}`, `{{json .}}`, `{{json .Field}}`, a `table` prefix, `\t`. */
export function renderPs(rows: PsRow[], format: string | undefined, quiet: boolean): string {
  if (quiet) return rows.map((r) => `${r.ID}\n`).join('');
  let template = format ?? DEFAULT_TABLE;
  if (template === 'table') template = DEFAULT_TABLE;
  if (template === 'json') template = '{{json .}}';
  const table = template.startsWith('table ');
  if (table) template = template.slice(6);
  template = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const fill = (row: PsRow | null) =>
    template.replace(/\{\{\s*(json\s+)?\.([A-Za-z]*)\s*\}\}/g, (_, json: string | undefined, field: string) => {
      if (!row) return field ? HEADERS[field as keyof PsRow] ?? field.toUpperCase() : '';
      const value = field ? row[field as keyof PsRow] : row;
      if (json) return JSON.stringify(value);
      return value === undefined ? '<no value>' : String(value);
    });
  if (!table) return rows.map((r) => `${fill(r)}\n`).join('');
  return renderTable([fill(null), ...rows.map(fill)].map((line) => line.split('\t')));
}
