/**
 * A platform description being built by an importer: IOMMUs, devices and reserved regions
 * with the comments that say where each came from, rendered as `.iommu` text. Every name
 * is made unique here and every comment escaped, so no input can add a line of its own.
 */
import { escapeText } from '../cli/escape';
import { hex, type Interval } from '../model/interval';
import { Names } from './names';

export type IommuKind = 'vt-d' | 'amd-vi' | 'smmuv3';
export type RegionKind = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';

export interface IommuOut {
  name: string;
  kind: IommuKind;
  width?: number;
  comments: string[];
}
export interface DeviceOut {
  name: string;
  bdf?: string;
  iommu?: IommuOut;
  stream?: number;
  group?: bigint;
  classWord?: string;
  comment?: string;
}
export interface RegionOut {
  name: string;
  type: RegionKind;
  range: Interval;
  targets: (DeviceOut | IommuOut | { group: bigint })[];
  comment?: string;
}

/** `// text`, with the text made safe for a one-line comment. */
export const comment = (text: string) => `// ${escapeText(text)}`;

export class PlatformOut {
  readonly names = new Names();
  readonly header: string[] = [];
  readonly iommus: IommuOut[] = [];
  readonly devices = new Map<string, DeviceOut>();
  readonly regions: RegionOut[] = [];
  /** Comments inside the platform, after the regions: what was read but has no statement. */
  readonly notes: string[] = [];
  arch?: 'x86_64' | 'arm64';
  /** The `kernel` statement's release (`6.8.0`), which keys the version-dependent rules. */
  kernel?: string;

  constructor(readonly name: string) {}

  iommu(base: string, kind: IommuKind, width: number | undefined, comments: string[]): IommuOut {
    const i: IommuOut = { name: this.names.take(base), kind, width, comments };
    this.iommus.push(i);
    return i;
  }

  /** The device of `key` (a BDF, or a description of an unresolved path), made on first use. */
  device(key: string, base: string, bdf?: string): DeviceOut {
    let d = this.devices.get(key);
    if (!d) {
      d = { name: this.names.take(base), bdf };
      this.devices.set(key, d);
    }
    return d;
  }

  region(base: string, type: RegionKind, range: Interval, targets: RegionOut['targets'], note?: string): RegionOut {
    const r: RegionOut = { name: this.names.take(base), type, range, targets, comment: note };
    this.regions.push(r);
    return r;
  }

  render(): string {
    const lines = [...this.header.map(comment), `platform ${this.name} {`];
    if (this.arch) lines.push(`  arch ${this.arch}`);
    if (this.kernel) lines.push(`  kernel ${this.kernel}`);
    for (const i of this.iommus) {
      for (const c of i.comments) lines.push(`  ${comment(c)}`);
      lines.push(`  iommu ${i.name} ${i.kind}${i.width !== undefined ? ` { address-width ${i.width} }` : ''}`);
    }
    if (this.regions.length) lines.push('');
    for (const r of this.regions) {
      if (r.comment) lines.push(`  ${comment(r.comment)}`);
      const targets = r.targets.map((t) => ('group' in t ? `group ${t.group}` : t.name));
      lines.push(
        `  reserved ${r.name} ${r.type} ${hex(r.range.start)}..${hex(r.range.end)}${targets.length ? ` for ${targets.join(', ')}` : ''}`,
      );
    }
    if (this.notes.length) lines.push('', ...this.notes.map((n) => `  ${comment(n)}`));
    const devices = [...this.devices.values()];
    if (devices.length) lines.push('');
    for (const d of devices) {
      const parts = [
        d.bdf && `bdf ${d.bdf}`,
        d.iommu && `iommu ${d.iommu.name}${d.stream !== undefined ? ` stream ${hex(BigInt(d.stream))}` : ''}`,
        d.group !== undefined && `group ${d.group}`,
        d.classWord && `class ${d.classWord}`,
      ].filter(Boolean);
      lines.push(`  device ${d.name} { ${parts.join('; ')} }${d.comment ? `   ${comment(d.comment)}` : ''}`);
    }
    lines.push('}', '');
    return lines.join('\n');
  }
}
