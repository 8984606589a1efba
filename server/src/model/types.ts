/**
 * The typed model: what the descriptions say once names are resolved and numbers
 * evaluated. Section-A constructs are fully typed; for the rest the model keeps the
 * AST statement with its references resolved (their engines give them meaning).
 */
import type * as A from '@iommu-lens/grammar';
import type { Interval } from './interval';
import type { Bdf } from './numbers';
import type { Release } from './versions';

/**
 * The kinds of name: the core's here; each domain adds its own in its model's types.ts by
 * declaration merging (`declare module '.../model/types' { interface SymbolKinds { ... } }`),
 * and says what they are called in its model part (part.ts).
 */
export interface SymbolKinds {
  platform: true;
  guest: true;
  device: true;
  iommu: true;
  ram: true;
  reserved: true;
  'guest-ram': true;
  viommu: true;
  iommufd: true;
}
export type SymbolKind = keyof SymbolKinds;

/** What a kind of name is, for messages and namespaces. */
export interface KindInfo {
  /** `IOMMU`, `Xen domain`: the word messages use. */
  noun: string;
  /** A global kind: its names share the workspace's one namespace; `plural` lists it in messages. */
  global?: { plural: string };
  /** The names it shares a namespace with inside its owner (platform members: `member`); default: its own kind. */
  group?: string;
  /** Its namespace is the global declaration it is in, not its parent (a firmware's events, wherever their handler sits). */
  inDeclaration?: true;
}

/** A declared name: where it is, what it is, and (for members) whose it is. */
export interface Sym {
  kind: SymbolKind;
  name: string;
  uri: string;
  /** The name as written in the declaration. */
  nameSpan: A.Span;
  /** The whole declaration. */
  span: A.Span;
  /** The platform, guest, firmware, driver or Xen host the name belongs to. */
  container?: string;
  /** A name the language fixes (`dom0`): it is a keyword in the text, so it cannot be renamed. */
  fixed?: true;
}

/** A use of a name, resolved: for go-to-definition, references and rename. */
export interface Reference {
  uri: string;
  span: A.Span;
  target: Sym;
}

/**
 * A name that resolved to nothing: what was wanted and where it was looked up, so the
 * editor can offer to create it (a device on `platform`, a platform, a guest).
 */
export interface Unresolved {
  uri: string;
  span: A.Span;
  name: string;
  kinds: readonly SymbolKind[];
  platform?: Platform;
}

export type IommuKind = 'vt-d' | 'amd-vi' | 'smmuv3' | 'virtio-iommu';
export type RegionType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';
export type AssignMode = 'shared' | 'private' | 'bind-capable';

export interface Platform {
  sym: Sym;
  decl: A.PlatformDecl;
  arch?: 'x86_64' | 'arm64';
  /** `kernel 6.6`: the host's Linux release; none: the newest behaviour (RULES §0.2). */
  kernel?: Release;
  /** `dma-entry-limit N`: vfio_iommu_type1's module parameter; none: the default 65535. */
  dmaEntryLimit?: { value: number; span: A.Span };
  iommus: Map<string, Iommu>;
  devices: Map<string, Device>;
  ram: RamRegion[];
  reserved: ReservedRegion[];
  /** x86 IO-APIC pages and PCIe ECAM windows: what Xen keeps out of dom0's IOMMU map. */
  ioapics: { range: Interval; stmt: A.IoapicStmt }[];
  mmcfg: { range: Interval; stmt: A.MmcfgStmt }[];
  /** Every member (device, IOMMU, ram, reserved) by name: one namespace. */
  members: Map<string, Member>;
}

export type Member = Device | Iommu | RamRegion | ReservedRegion;

export interface Iommu {
  sym: Sym;
  decl: A.IommuDecl;
  kind?: IommuKind;
  /** IOVA aperture is 0 .. 2^addressWidth - 1. */
  addressWidth?: number;
  msiMode?: 'remapped' | 'bypass';
  pageSizes: bigint[];
  /** `ht-range-ignore`: the IOMMU reports HTRangeIgnore (EFR2), so Linux 6.16+ does not reserve the HT hole. */
  htRangeIgnore?: A.HtRangeIgnoreStmt;
}

export interface Device {
  sym: Sym;
  decl: A.DeviceDecl;
  bdf?: Bdf;
  iommu?: Iommu;
  /** The first stream ID (`master->streams[0]`). */
  stream?: bigint;
  /** Every stream ID, when the device has more than one. */
  streams?: bigint[];
  group?: bigint;
  quirks: string[];
  pf?: Device;
  deviceClass?: string;
}

export interface RamRegion {
  sym: Sym;
  decl: A.RamDecl;
  range?: Interval;
}

export type RegionTarget = { kind: 'device'; device: Device } | { kind: 'iommu'; iommu: Iommu } | { kind: 'group'; group: bigint };

export interface ReservedRegion {
  sym: Sym;
  decl: A.ReservedDecl;
  type?: RegionType;
  range?: Interval;
  /** Empty: the region applies to every device of the platform. */
  targets: RegionTarget[];
}

export interface GuestRam {
  sym: Sym;
  decl: A.RamDecl;
  range?: Interval;
}

export interface Assignment {
  uri: string;
  stmt: A.AssignStmt;
  device?: Device;
  mode: AssignMode;
  /** `dma-window`: where the device's DMA lands, guest-physical (checked against vTOM). */
  dmaWindow?: Interval;
  /** `iommufd NAME`: the guest's iommufd instance it uses (QEMU `iommufd=NAME`), resolved. */
  iommufd?: string;
}

export interface Machine {
  stmt: A.MachineStmt;
  type?: 'q35' | 'i440fx' | 'virt';
  memory?: bigint;
  cpu?: 'amd' | 'intel';
  physBits?: number;
  maxRamBelow4g?: bigint;
  /** `pci-hole64-size`: QEMU's `pci-hole64-size` property of the PCI host. */
  pciHole64Size?: bigint;
  /** The machine type's version (`version 7.0` is `pc-q35-7.0`); none: the newest. */
  version?: { major: number; minor: number };
  /** `cpu-model`: QEMU's `-cpu` model (`EPYC-Genoa`, `host`, `max`); none: QEMU's default, qemu64. */
  cpuModel?: string;
  /** `accel`: the accelerator; none: KVM (what a VFIO guest runs under). */
  accel?: 'kvm' | 'tcg';
  /** `maxmem` / `slots` (`-m SIZE,slots=N,maxmem=SIZE`): the device-memory region above RAM. */
  maxmem?: bigint;
  slots?: bigint;
  /** `host-phys-bits on`: the vCPU takes the host's phys-bits whatever its model (target/i386/host-cpu.c). */
  hostPhysBits?: boolean;
  /** `highmem off` (virt): 32-bit guest-physical addresses. */
  highmem?: boolean;
}

export interface Guest {
  sym: Sym;
  decl: A.GuestDecl;
  platform?: Platform;
  ram: GuestRam[];
  assigns: Assignment[];
  machine?: Machine;
  msiWindow?: Interval;
  viommus: Viommu[];
  container: 'type1' | 'iommufd';
  /** `iommufd NAME` statements: the guest's iommufd instances (QEMU `-object iommufd,id=NAME`). */
  iommufds: Map<string, Sym>;
}

/**
 * A step with its names resolved in the platform in force at that step: the timelines resolve
 * it, and every domain that adds steps (grammar: the `steps` place) reads it; a domain adds
 * the fields only its steps have by declaration merging.
 */
export interface ResolvedStep {
  uri: string;
  step: A.Step;
  guest?: Guest;
  device?: Device;
  /** `migrate ... to P`. */
  target?: Platform;
  /** The platform the step's guest (or device) is on when the step runs. */
  platform?: Platform;
  /** `balloon`/`free`: the range; `hotplug`: the `dma-window`. */
  range?: Interval;
  /** `config D command|devctl BITS`: the value written. */
  bits?: number;
  /** `hotplug ... iommufd NAME`: the guest's iommufd instance the device joins. */
  iommufd?: string;
}

/** A vIOMMU of a guest (`viommu NAME KIND [via V] [stage2]`). */
export interface Viommu {
  sym: Sym;
  stmt: A.ViommuStmt;
  kind?: IommuKind;
  /** What `via` names, resolved by the domain that declares it (a CMDQV VINTF). */
  via?: { sym: Sym };
  stage2: boolean;
}

/** The core blocks a domain adds statements to (the grammar's places), with the entity each block declares. */
export interface BlockOwners {
  iommuBody: Iommu;
  deviceBody: Device;
  guestBody: Guest;
}
export type Block = keyof BlockOwners;
export interface BlockItems {
  iommuBody: A.IommuItem;
  deviceBody: A.DeviceItem;
  guestBody: A.GuestItem;
}
/**
 * The model: the core's maps and lists here; each domain adds its own fields by declaration
 * merging and lists them in its model part, which makes, merges and fills them.
 */
export interface Model {
  /** What each kind of name is called and how it is scoped (the schema's, shared by every model of it). */
  kinds: Readonly<Record<SymbolKind, KindInfo>>;
  platforms: Map<string, Platform>;
  guests: Map<string, Guest>;
  /** Every declared name, global and local. */
  symbols: Sym[];
  /** Every resolved use of a name. */
  references: Reference[];
  /** Every use of a name that resolved to nothing. */
  unresolved: Unresolved[];
  /** Each file's comments (sorted): fixes that delete lines must keep them. */
  comments: Map<string, A.Span[]>;
}
