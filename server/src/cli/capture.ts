/**
 * Reading a captured `/sys/kernel/iommu_groups` tree for `iommu-lens import`, when the
 * capture may come from anyone. Only regular files inside the capture are read, at most
 * MAX_CAPTURE_FILE bytes each:
 * - every entry is checked with lstat before it is used;
 * - a symbolic link is followed only when everything it resolves to lies inside the
 *   capture (a capture copied with its links stays importable); a link out of the tree, a
 *   dangling link and a link loop are errors that say which;
 * - FIFOs, devices and sockets are refused, and files are opened non-blocking and checked
 *   again on the open descriptor, so nothing swapped in meanwhile can hang or flood a read;
 * - the entries of `devices/` are only listed, never followed: in a live sysfs they are
 *   links into /sys/devices.
 * Every problem is a SysfsError naming the file (escaped), which the CLI reports with exit 2.
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { errnoReason } from './errors';
import { escapeText } from './escape';
import { parseReservedRegions, SysfsError, type CapturedGroup, type SysfsRegion } from './sysfsImport';

/** A reserved_regions file is a few lines; a mebibyte is thousands of regions. */
export const MAX_CAPTURE_FILE = 1 << 20;

/** A group directory is named as sysfs names it: the group number, in decimal without leading zeros. */
const GROUP_DIR = /^(0|[1-9][0-9]{0,9})$/;

export type CaptureFs = Pick<
  typeof nodeFs,
  'lstatSync' | 'realpathSync' | 'readdirSync' | 'openSync' | 'fstatSync' | 'readSync' | 'closeSync' | 'readlinkSync'
>;

/** Paths as the user wrote them (for messages) next to the real ones (for reading). */
export interface Place {
  real: string;
  shown: string;
}

export const at = (p: Place, name: string): Place => ({ real: join(p.real, name), shown: `${p.shown}/${name}` });

function fail(p: Place, why: string): never {
  throw new SysfsError(`'${escapeText(p.shown)}': ${why}`);
}

const KINDS: [keyof nodeFs.Stats, string][] = [
  ['isFIFO', 'a FIFO'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
  ['isSocket', 'a socket'],
];

/** What a file that is not a regular file or directory is, for the message. */
function kind(st: nodeFs.Stats): string {
  return KINDS.find(([test]) => (st[test] as () => boolean).call(st))?.[1] ?? 'not a regular file';
}

/** The groups of the capture tree DIR (`shown`: DIR as the user wrote it). A link at DIR itself is the user's own choice: followed. */
export function readCaptureTree(dir: string, shown: string, fs: CaptureFs = nodeFs): CapturedGroup[] {
  const top = { real: realDirectory({ real: dir, shown }, fs), shown };
  const reader = new CaptureReader(top.real, fs);
  return reader.groups(top).map(({ number, dir: d }) => reader.group(number, d));
}

/**
 * One reserved_regions file named on its own. Its directory stands for the capture: a link
 * there is followed only to a file beside it or below, so naming a file of an untrusted
 * capture reads no more than importing the whole capture would.
 */
export function readCaptureFile(path: string, shown: string, fs: CaptureFs = nodeFs): SysfsRegion[] {
  const dir = realDirectory({ real: dirname(path), shown: dirname(shown) }, fs);
  return new CaptureReader(dir, fs, 'its directory').regions({ real: join(dir, basename(path)), shown });
}

export function realDirectory(p: Place, fs: CaptureFs = nodeFs): string {
  try {
    return fs.realpathSync(p.real);
  } catch (e) {
    fail(p, `cannot read: ${errnoReason(e)}`);
  }
}

export class CaptureReader {
  /** One read buffer for every file: one byte over the limit tells a file that is too large. */
  private buffer: Buffer | undefined;

  /**
   * `root`: the capture's directory with links resolved, which "inside" is measured against;
   * `scope` names it in messages.
   */
  constructor(
    private readonly root: string,
    private readonly fs: CaptureFs = nodeFs,
    private readonly scope = 'the capture',
  ) {}

  private inside(real: string): boolean {
    const rel = relative(this.root, real);
    return rel === '' || (!isAbsolute(rel) && rel.split(sep)[0] !== '..');
  }

  /**
   * The entry at `p` with links resolved inside the capture: its real path and lstat, or
   * undefined when there is nothing there.
   */
  resolve(p: Place): { real: string; st: nodeFs.Stats } | undefined {
    let st: nodeFs.Stats | undefined;
    try {
      st = this.fs.lstatSync(p.real, { throwIfNoEntry: false });
    } catch (e) {
      fail(p, `cannot read: ${errnoReason(e)}`);
    }
    if (!st) return undefined;
    if (!st.isSymbolicLink()) return { real: p.real, st };
    let real: string;
    try {
      real = this.fs.realpathSync(p.real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(
        p,
        code === 'ENOENT'
          ? 'a dangling symbolic link'
          : code === 'ELOOP'
            ? 'a symbolic link loop'
            : `cannot follow the link: ${errnoReason(e)}`,
      );
    }
    if (!this.inside(real)) fail(p, `a symbolic link that leads outside ${this.scope}: not followed`);
    try {
      return { real, st: this.fs.lstatSync(real) };
    } catch (e) {
      fail(p, `cannot read: ${errnoReason(e)}`);
    }
  }

  /** The numbered group directories of the capture, in no particular order. */
  groups(top: Place): { number: bigint; dir: Place }[] {
    let names: string[];
    try {
      names = this.fs.readdirSync(top.real);
    } catch (e) {
      fail(top, `cannot read the directory: ${errnoReason(e)}`);
    }
    const out: { number: bigint; dir: Place }[] = [];
    for (const name of names.filter((n) => GROUP_DIR.test(n))) {
      const p = at(top, name);
      const r = this.resolve(p);
      // A numbered file is not a group (a capture may hold notes); only directories are.
      if (r?.st.isDirectory()) out.push({ number: BigInt(name), dir: { real: r.real, shown: p.shown } });
    }
    return out;
  }

  /** One group: its reserved_regions (none when the file is absent) and the names in devices/. */
  group(number: bigint, dir: Place): CapturedGroup {
    const file = at(dir, 'reserved_regions');
    const text = this.readText(file);
    return {
      number,
      regions: text === undefined ? [] : parseReservedRegions(text, file.shown),
      devices: this.deviceNames(at(dir, 'devices')),
    };
  }

  /** The entries of a group's devices/ directory (a capture without one lists none). */
  private deviceNames(p: Place): string[] {
    const r = this.resolve(p);
    if (!r) return [];
    if (!r.st.isDirectory()) fail(p, `${r.st.isFile() ? 'a file' : kind(r.st)}, not a directory`);
    try {
      return this.fs.readdirSync(r.real).filter((d) => !d.startsWith('.'));
    } catch (e) {
      fail(p, `cannot read the directory: ${errnoReason(e)}`);
    }
  }

  /** The regions of one reserved_regions file of the capture. */
  regions(p: Place): SysfsRegion[] {
    const text = this.readText(p);
    if (text === undefined) fail(p, 'no such file');
    return parseReservedRegions(text, p.shown);
  }

  /** A regular file of the capture as text, or undefined when absent. */
  private readText(p: Place): string | undefined {
    return this.bytes(p, MAX_CAPTURE_FILE, 'a reserved_regions file sysfs prints')?.toString('utf8');
  }

  /**
   * The entries of a directory of the capture (links to directories inside it followed), or
   * undefined when there is nothing there.
   */
  list(p: Place): { names: string[]; real: string } | undefined {
    const r = this.resolve(p);
    if (!r) return undefined;
    if (!r.st.isDirectory()) fail(p, `${r.st.isFile() ? 'a file' : kind(r.st)}, not a directory`);
    try {
      return { names: this.fs.readdirSync(r.real), real: r.real };
    } catch (e) {
      fail(p, `cannot read the directory: ${errnoReason(e)}`);
    }
  }

  /** Where the link at `p` points, as written (not followed), or undefined when `p` is not a link. */
  linkText(p: Place): string | undefined {
    try {
      const st = this.fs.lstatSync(p.real, { throwIfNoEntry: false });
      return st?.isSymbolicLink() ? String(this.fs.readlinkSync(p.real)) : undefined;
    } catch (e) {
      fail(p, `cannot read the link: ${errnoReason(e)}`);
    }
  }

  /**
   * A regular file of the capture as bytes (a copy), or undefined when absent; over `max`
   * bytes it is refused, `what` saying what was expected.
   */
  bytes(p: Place, max: number, what: string): Buffer | undefined {
    const r = this.resolve(p);
    if (!r) return undefined;
    if (r.st.isDirectory()) fail(p, 'a directory, not a file');
    if (!r.st.isFile()) fail(p, `${kind(r.st)}, not a regular file: not read`);
    let fd: number | undefined;
    try {
      // Non-blocking and no link: if the file was swapped for a FIFO or a link since the lstat, the open cannot hang or leave the tree.
      fd = this.fs.openSync(r.real, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK);
      const st = this.fs.fstatSync(fd);
      if (!st.isFile()) fail(p, `${kind(st)}, not a regular file: not read`);
      // Read to the end rather than trust st.size: sysfs reports 4096 for every attribute, /proc reports 0.
      if (!this.buffer || this.buffer.length < max + 1) this.buffer = Buffer.alloc(max + 1);
      const buf = this.buffer.subarray(0, max + 1);
      let n = 0;
      while (n < buf.length) {
        const k = this.fs.readSync(fd, buf, n, buf.length - n, null);
        if (k === 0) break;
        n += k;
      }
      if (n > max) fail(p, `over ${max} bytes (${max >= 1 << 20 ? `${max / (1 << 20)} MiB` : `${max / 1024} KiB`}): not ${what}`);
      return Buffer.from(buf.subarray(0, n));
    } catch (e) {
      if (e instanceof SysfsError) throw e;
      fail(p, `cannot read: ${errnoReason(e)}`);
    } finally {
      if (fd !== undefined)
        try {
          this.fs.closeSync(fd);
        } catch {
          /* read already */
        }
    }
  }
}
