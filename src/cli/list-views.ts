// `volume ls` and `network ls` rows in Docker's shapes, its filters and --format fields.
import type { Volume } from '../engine/index.js';
import { StrataError } from '../errors.js';
import { formatRows, resolveFormat } from './format/template.js';

const labelText = (labels: Record<string, string> | null) => Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

/** `label=KEY` or `label=KEY=VALUE` against a label map. */
function labelMatches(labels: Record<string, string> | null, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels ?? {}, want);
  return (labels ?? {})[want.slice(0, eq)] === want.slice(eq + 1);
}

const splitFilter = (f: string): [string, string] => (f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [f, '']);

/** `volume ls --filter`: name (substring), label, driver, dangling (used by no container). */
export function filterVolumes(vols: Volume[], filters: string[], users: Map<string, string[]>): Volume[] {
  let out = vols;
  for (const f of filters) {
    const [key, value] = splitFilter(f);
    if (key === 'name') out = out.filter((v) => v.Name.includes(value));
    else if (key === 'label') out = out.filter((v) => labelMatches(v.Labels, value));
    else if (key === 'driver') out = out.filter((v) => v.Driver === value);
    else if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value)) throw new StrataError(`invalid filter "dangling=${value}": expected true or false`);
      const dangling = value === 'true' || value === '1';
      out = out.filter((v) => !(users.get(v.Name)?.length) === dangling);
    } else throw new StrataError(`invalid filter "${key}": strata supports name, label, driver, dangling`);
  }
  return out;
}

export function renderVolumes(vols: Volume[], format: string | undefined): string {
  const rows = vols.map((v) => ({
    Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt, Labels: labelText(v.Labels),
    Label: (key: string) => v.Labels?.[key] ?? '', Size: 'N/A', Links: 'N/A',
  }));
  return formatRows(resolveFormat(format, 'table {{.Driver}}\t{{.Name}}'), rows,
    { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED', Labels: 'LABELS', Size: 'SIZE', Links: 'LINKS' });
}

export interface NetworkRowSource { Id: string; Name: string; Driver: string; Scope: string; Created: string; Internal: boolean; Labels: Record<string, string> }

export function renderNetworks(nets: NetworkRowSource[], format: string | undefined, noTrunc: boolean): string {
  const rows = nets.map((n) => ({
    ID: noTrunc ? n.Id : n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: 'false', Internal: String(n.Internal),
    Labels: labelText(n.Labels), Label: (key: string) => n.Labels[key] ?? '', CreatedAt: n.Created,
  }));
  return formatRows(resolveFormat(format, 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}'), rows,
    { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' });
}
