/**
 * The PCI devices of a host, as far as an importer needs them: address, class and the
 * bridge above each one. From a copied `/sys/bus/pci/devices` (the CLI reads each entry's
 * `class` file and the target of its link, which names the bridges above it), or from the
 * text of `lspci -n` / `lspci -nn` (classes, no topology).
 */
import { lineError } from './errors';

export interface PciDevice {
  segment: number;
  bus: number;
  device: number;
  fn: number;
  /** The 24-bit class code (base class, subclass, programming interface), when known. */
  classCode?: number;
  /** The BDF of the bridge above it, when the source shows the topology. */
  parent?: string;
}

export interface PciInventory {
  devices: Map<string, PciDevice>;
  /** Whether `parent` is known (sysfs) or not (lspci). */
  topology: boolean;
  source: string;
}

const hex = (v: number, n: number) => v.toString(16).padStart(n, '0');

/** `ssss:bb:dd.f`, lower case: the one key every importer uses for a PCI function. */
export function bdfKey(segment: number, bus: number, device: number, fn: number): string {
  return `${hex(segment, 4)}:${hex(bus, 2)}:${hex(device, 2)}.${fn}`;
}

const BDF = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7])$/;

/** A BDF with or without its segment (`0000:00:14.0`, `00:14.0`), or undefined. */
export function parseBdf(s: string): PciDevice | undefined {
  const m = BDF.exec(s);
  if (!m) return undefined;
  return { segment: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2]!, 16), device: parseInt(m[3]!, 16), fn: parseInt(m[4]!, 10) };
}

export const keyOf = (d: PciDevice) => bdfKey(d.segment, d.bus, d.device, d.fn);

/** The BDFs named in a sysfs link target (`../../../devices/pci0000:00/0000:00:1c.7/0000:03:00.0`), in order. */
export function bdfsInPath(target: string): string[] {
  return target
    .split('/')
    .filter((p) => /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/.test(p))
    .map((p) => p.toLowerCase());
}

/** A device of a sysfs tree: its directory name, its `class` file's text and its link target (if a link). */
export function sysfsDevice(name: string, classText: string | undefined, linkTarget: string | undefined): PciDevice | undefined {
  const d = parseBdf(name);
  if (!d) return undefined;
  const m = /^\s*0x([0-9a-fA-F]{6})\s*$/.exec(classText ?? '');
  if (m) d.classCode = parseInt(m[1]!, 16);
  const chain = linkTarget ? bdfsInPath(linkTarget) : [];
  if (chain.length >= 2) d.parent = chain[chain.length - 2];
  return d;
}

/**
 * `lspci -n` (`00:14.0 0c03: 8086:a36d (rev 10)`), with or without `-D`, or `lspci -nn`
 * (`00:14.0 USB controller [0c03]: Intel ... [8086:a36d]`). Lines that start with a BDF
 * must show a class; other lines (a verbose dump's details) are skipped.
 */
export function parseLspci(text: string, where: string): PciInventory {
  const devices = new Map<string, PciDevice>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const first = /^(\S+)\s/.exec(line);
    const d = first ? parseBdf(first[1]!) : undefined;
    if (!d) return;
    const cls = /^\S+\s+(?:Class\s+)?([0-9a-fA-F]{4}):\s/.exec(line) ?? /\[([0-9a-fA-F]{4})\]:\s/.exec(line);
    if (!cls) throw lineError(where, i + 1, 'a device line without a class code: give the output of lspci -n or lspci -nn');
    d.classCode = parseInt(cls[1]!, 16) << 8;
    devices.set(keyOf(d), d);
  });
  if (devices.size === 0) throw lineError(where, 1, 'no device lines: not the output of lspci -n');
  return { devices, topology: false, source: where };
}

export type ClassWord = 'usb' | 'graphics' | 'bridge' | 'isa-bridge';

/**
 * The class word the language uses for what the kernel treats apart: USB controllers and
 * display devices (their RMRRs are relaxable, `device_rmrr_is_relaxable()`), PCI bridges,
 * and the ISA/LPC bridge (the VT-d driver's floppy workaround).
 */
export function classWord(classCode: number | undefined): ClassWord | undefined {
  if (classCode === undefined) return undefined;
  if (classCode >> 16 === 0x03) return 'graphics';
  const sub = classCode >> 8;
  if (sub === 0x0c03) return 'usb';
  if (sub === 0x0604 || sub === 0x0609) return 'bridge';
  if (sub === 0x0601) return 'isa-bridge';
  return undefined;
}

/** Whether the VT-d driver makes an RMRR of this device relaxable (USB or graphics). */
export function relaxable(classCode: number | undefined): boolean {
  const w = classWord(classCode);
  return w === 'usb' || w === 'graphics';
}

/** Whether `key` is `bridge` or below it, by the parents the inventory knows. Bounded by the tree's depth (a loop stops). */
export function below(inv: PciInventory, key: string, bridge: string): boolean {
  let at: string | undefined = key;
  for (let hops = 0; at !== undefined && hops < 256; hops++) {
    if (at === bridge) return true;
    at = inv.devices.get(at)?.parent;
  }
  return false;
}

/** The bus behind a bridge: the bus of any device whose parent it is (built once per inventory). */
export function secondaryBuses(inv: PciInventory): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of inv.devices.values()) if (d.parent && !out.has(d.parent)) out.set(d.parent, d.bus);
  return out;
}

/** A requester ID within its segment: bus << 8 | device << 3 | function. */
export const ridOf = (d: PciDevice) => (d.bus << 8) | (d.device << 3) | d.fn;

/**
 * For each of the 65,536 requester IDs, the index of the range that claims it: the last of
 * `ranges` that covers it (`lastWins`), or the first. Each ID is claimed once (a "next
 * unclaimed" pointer skips the claimed ones), so the cost is the ID space plus the ranges,
 * never ranges × devices.
 */
export function claimIds(ranges: readonly { first: number; last: number }[], lastWins: boolean): Int32Array {
  const owner = new Int32Array(0x10000).fill(-1);
  const next = new Int32Array(0x10001).map((_, i) => i);
  const find = (i: number) => {
    let r = i;
    while (next[r] !== r) r = next[r]!;
    while (next[i] !== r) {
      const n = next[i]!;
      next[i] = r;
      i = n;
    }
    return r;
  };
  const order = ranges.map((_, i) => i);
  if (lastWins) order.reverse();
  for (const r of order) {
    const { first, last } = ranges[r]!;
    for (let i = find(Math.max(0, first)); i <= Math.min(last, 0xffff); i = find(i + 1)) {
      owner[i] = r;
      next[i] = i + 1;
    }
  }
  return owner;
}
