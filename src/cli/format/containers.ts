// `ps` output as Docker prints it: its columns, its relative times ("Up 3 seconds",
// "Exited (0) 2 minutes ago"), its truncation of IDs and commands, and a --format subset.
import type { ContainerRecord, ContainerState } from '../../store/index.js';
import { goTime, humanDuration } from './human.js';
import { formatRows } from './template.js';

function since(time: string, now: number): string {
  return humanDuration(Math.max(0, now - Date.parse(time)));
}

/** Docker's health suffix: " (healthy)", " (unhealthy)", " (health: starting)". */
function healthText(state: ContainerState): string {
  const h = state.Health?.Status;
  if (!h) return '';
  return h === 'starting' ? ' (health: starting)' : ` (${h})`;
}

export function statusText(state: ContainerState, now = Date.now()): string {
  switch (state.Status) {
    case 'running':
      return `Up ${since(state.StartedAt, now)}${healthText(state)}`;
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
  /** `{{.Label "KEY"}}`: Docker's method on its ps row. */
  Label: (key: string) => string;
  Mounts: string;
  /** The networks it is connected to, by name, sorted, comma-separated. */
  Networks: string;
  /** How many volumes it mounts (all of ours are "local"). */
  LocalVolumes: string;
  /** `ps -s`: "RW (virtual RW+IMAGE)"; "0B" without sizes, as Docker's. */
  Size: string;
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
    CreatedAt: goTime(record.Created),
    RunningFor: `${since(record.Created, now)} ago`,
    Status: statusText(state, now),
    State: state.Status,
    Ports: options.ports ?? '',
    Names: record.Name.replace(/^\//, ''),
    Labels: Object.entries(record.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Label: (key: string) => record.Config.Labels?.[key] ?? '',
    Mounts: record.Mounts.map((m) => m.Name ?? m.Source).join(','),
    Networks: Object.keys(record.NetworkSettings?.Networks ?? {}).sort().join(','),
    LocalVolumes: String(record.Mounts.filter((m) => m.Type === 'volume').length),
    Size: '0B',
  };
}

export const PS_HEADINGS: Record<keyof PsRow, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Status: 'STATUS', State: 'STATE', Ports: 'PORTS', Names: 'NAMES', Labels: 'LABELS', Label: 'LABEL', Mounts: 'MOUNTS', Size: 'SIZE',
  Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** Renders rows as `ps` does: IDs only (-q), the default table, or a Go-template --format. */
export function renderPs(rows: PsRow[], format: string | undefined, quiet: boolean, size = false): string {
  if (quiet) return rows.map((r) => `${r.ID}\n`).join('');
  const table = size ? `${DEFAULT_TABLE}\t{{.Size}}` : DEFAULT_TABLE;
  let template = format ?? table;
  if (template === 'table') template = table;
  if (template === 'json') template = '{{json .}}';
  return formatRows(template, rows, PS_HEADINGS);
}
