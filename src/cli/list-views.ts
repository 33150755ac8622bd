// `volume ls` and `network ls` rows in Docker's shapes and --format fields (the filters are the engine's).
import type { Volume } from '../engine/index.js';
import { formatRows, resolveFormat } from './format/template.js';

const labelText = (labels: Record<string, string> | null) => Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

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
