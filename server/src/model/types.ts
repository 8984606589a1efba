/**
 * The typed model: what the descriptions say once names are resolved and numbers
 * evaluated. Section-A constructs are fully typed; for the rest the model keeps the
 * AST statement with its references resolved (their engines give them meaning).
 */
import type * as A from '@iommu-lens/grammar';
import type { Interval } from './interval';
import type { Bdf } from './numbers';
import type { Release } from './versions';

export type SymbolKind =
  | 'platform'
  | 'guest'
  | 'timeline'
  | 'pool'
  | 'firmware'
  | 'xen'
  | 'vintf'
  | 'device'
  | 'iommu'
  | 'ram'
  | 'reserved'
  | 'guest-ram'
  | 'viommu'
  | 'iommufd'
  | 'driver'
  | 'mapping'
  | 'event'
  | 'domain';

/** The global kinds share one namespace across all files of a workspace. */
export const GLOBAL_KINDS: readonly SymbolKind[] = ['platform', 'guest', 'timeline', 'pool', 'firmware', 'xen', 'vintf'];

export const KIND_NOUN: Record<SymbolKind, string> = {
  platform: 'platform',
  guest: 'guest',
  timeline: 'timeline',
  pool: 'pool',
  firmware: 'firmware',
  xen: 'Xen host',
  vintf: 'VINTF',
  device: 'device',
  iommu: 'IOMMU',
  ram: 'RAM region',
  reserved: 'reserved region',
  'guest-ram': 'guest RAM region',
  viommu: 'vIOMMU',
  iommufd: 'iommufd instance',
  driver: 'driver',
  mapping: 'DMA mapping',
  event: 'event',
  domain: 'Xen domain',
};

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
  /** A Tegra241 CMDQV: its `1 << LOG2` counts from CMDQV_PARAM (VINTFs, VCMDQs, SID pairs per VINTF). */
  cmdqv?: { vintfs?: bigint; sidsPerVintf?: bigint; vcmdqs?: bigint };
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
  tdisp: boolean;
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
  confidential?: { stmt: A.ConfidentialStmt; technology?: 'sev-snp' | 'tdx'; vtom?: bigint };
  viommus: { sym: Sym; stmt: A.ViommuStmt; kind?: IommuKind; via?: Vintf; stage2: boolean }[];
  container: 'type1' | 'iommufd';
  /** `iommufd NAME` statements: the guest's iommufd instances (QEMU `-object iommufd,id=NAME`). */
  iommufds: Map<string, Sym>;
}

export interface Pool {
  sym: Sym;
  decl: A.PoolDecl;
  hosts: Platform[];
}

/** A timeline step with its names resolved in the platform in force at that step. */
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
  /** `balloon`/`free` on a Xen domain. */
  domain?: XenDomain;
  /** `hotplug ... iommufd NAME`: the guest's iommufd instance the device joins. */
  iommufd?: string;
}

export interface Timeline {
  sym: Sym;
  decl: A.TimelineDecl;
  steps: ResolvedStep[];
}

export type DmaOperation =
  | 'bus-master-read'
  | 'bus-master-write'
  | 'common-buffer'
  | 'bus-master-read64'
  | 'bus-master-write64'
  | 'common-buffer64';

/** One `PciIo.Map()` call of a firmware driver. */
export interface FwMapping {
  sym: Sym;
  stmt: A.MapStmt;
  driver: FwDriver;
  operation?: DmaOperation;
  at?: bigint;
  size?: bigint;
  /**
   * `pending`: DMA still in flight when the driver's call returns; `completed`: Map, DMA
   * and Unmap all happen inside the call, so nothing is left at ExitBootServices; `idle`
   * (neither written): the driver keeps the mapping but no DMA is in flight.
   */
  state: 'pending' | 'completed' | 'idle';
  source?: 'allocate-buffer' | 'allocate-pool' | 'allocate-pages';
}

export interface FwDriver {
  sym: Sym;
  decl: A.DriverDecl;
  device?: Device;
  maps: Map<string, FwMapping>;
}

export type FwVerb = 'stop-dma' | 'unmap' | 'unmap-all' | 'free' | 'signal' | 'call';

export interface FwAction {
  node: A.Action;
  verb: FwVerb;
  /** `unmap X` / `free X`, resolved. */
  mapping?: FwMapping;
  /** `signal E`. */
  event?: string;
  /** `unmap-all deferred`. */
  deferred: boolean;
}

/** A notify function: of the ExitBootServices event group, or of a named event. */
export interface FwHandler {
  stmt: A.HandlerStmt;
  /** The driver it belongs to; none for the IOMMU protocol's own handlers. */
  driver?: FwDriver;
  /**
   * `exit-boot-services`; `before-exit-boot-services` (EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES,
   * signalled before the memory map is locked); or the event name of `on event NAME`.
   */
  event: { ebs: true } | { ebs: false; before: true } | { ebs: false; name: string };
  tpl: 'notify' | 'callback';
  actions: FwAction[];
}

export interface Firmware {
  sym: Sym;
  decl: A.FirmwareDecl;
  guest?: Guest;
  drivers: FwDriver[];
  /** Every handler with a TPL, in source order. */
  handlers: FwHandler[];
  /** `edk2 edk2-stable202411`: the EDK II release; none: the newest behaviour (RULES §0.2). */
  edk2?: Release;
  /** The `edk2` statement, for findings that depend on the release. */
  edk2Stmt?: A.Edk2Stmt;
  events: Map<string, Sym>;
}

export type XenDomainMode = 'pv' | 'pvh' | 'hvm';
export type XenMapMode = 'host-identity' | 'maintained' | 'pv-iommu' | 'virtual-vtd';
export type XenQuarantine = 'off' | 'basic' | 'scratch-page';
export type Dom0IommuOption = 'strict' | 'passthrough' | 'relaxed';
/** libxl's reserved-device-memory policy (`rdm_policy=`): strict refuses a conflict, relaxed warns and goes on. */
export type RdmPolicy = 'strict' | 'relaxed';

/** A one-word setting of a `dom0` or `domain` block (`mode pv`, `iommu-map maintained`). */
export type XenSetting = A.Node & { kind: 'mode' | 'map-reserved' | 'iommu-map' | 'quarantine'; value?: A.Word };

/** dom0 or a domain of a `xen` block, its settings as written (defaults are Xen's business: sim/xen.ts). */
export interface XenDomain {
  sym: Sym;
  decl: A.DomainDecl | A.Dom0Decl;
  xen: Xen;
  isDom0: boolean;
  mode?: XenDomainMode;
  modeStmt?: XenSetting;
  /** dom0: the `iommu` (dom0-iommu=) options. */
  dom0Iommu: Dom0IommuOption[];
  dom0IommuStmt?: Extract<A.XenItem, { kind: 'dom0-iommu' }>;
  mapReserved?: boolean;
  iommuMap?: XenMapMode;
  iommuMapStmt?: XenSetting;
  quarantine?: XenQuarantine;
  quarantineStmt?: XenSetting;
  /** Devices passed through, with the reference that names each and its `rdm-policy`, if written. */
  passed: { device: Device; ref: A.Ref; policy?: RdmPolicy }[];
  /** `rdm [strategy host] [policy P]`: xl's `rdm=` (the default policy of every `pass`). */
  rdm?: { strategyHost: boolean; policy?: RdmPolicy; stmt: Extract<A.XenItem, { kind: 'rdm' }> };
  ram: GuestRam[];
}

export interface Xen {
  sym: Sym;
  decl: A.XenDecl;
  platform?: Platform;
  domains: Map<string, XenDomain>;
  /** `xen-range`: memory Xen keeps for itself. */
  ranges: { range: Interval; stmt: A.XenRangeStmt }[];
  /** `xen 4.17`: the hypervisor's release; none: the newest behaviour (RULES §0.2). */
  release?: Release;
  /** `quarantine MODE`: the global `iommu=quarantine=` option. */
  quarantine?: { mode: XenQuarantine; stmt: A.XenQuarantineStmt };
}

export interface VintfStream {
  stmt: A.VintfItem & { kind: 'stream' };
  device?: Device;
  virtualSid?: bigint;
  /** The device is assigned to the VINTF's guest (what IOMMU_VDEVICE_ALLOC needs). */
  assigned: boolean;
}

export interface Vintf {
  sym: Sym;
  decl: A.VintfDecl;
  iommu?: Iommu;
  guest?: Guest;
  owner?: 'guest' | 'host';
  hypOwn?: { on: boolean; stmt: A.VintfItem };
  vmid?: bigint;
  streams: VintfStream[];
  /** The LVCMDQs the VMM allocates, in the order written. */
  queues: { stmt: A.VintfItem & { kind: 'queue' }; index?: bigint; size?: bigint; base?: bigint }[];
}

/** One SMMU command of a batch: its opcode (if known) and operands by name. */
export interface SmmuCmd {
  node: A.SmmuCommand;
  opcode?: string;
  /** `asid 3`, `sid 0x8`, `va 0x1000`; a leading bare number under the opcode's first operand; flags (`leaf`) as `true`. */
  operands: Map<string, { value: bigint | true; span: A.Span }>;
}

export interface SmmuBatch {
  decl: A.BatchDecl;
  commands: SmmuCmd[];
}

export interface CommandsBlock {
  uri: string;
  decl: A.CommandsDecl;
  vintf?: Vintf;
  batches: SmmuBatch[];
}

export interface Model {
  platforms: Map<string, Platform>;
  guests: Map<string, Guest>;
  pools: Map<string, Pool>;
  timelines: Map<string, Timeline>;
  firmwares: Map<string, Firmware>;
  xens: Map<string, Xen>;
  vintfs: Map<string, Vintf>;
  commands: CommandsBlock[];
  /** Every declared name, global and local. */
  symbols: Sym[];
  /** Every resolved use of a name. */
  references: Reference[];
  /** Every use of a name that resolved to nothing. */
  unresolved: Unresolved[];
  /** Each file's comments (sorted): fixes that delete lines must keep them. */
  comments: Map<string, A.Span[]>;
}

/** A model with nothing in it: what resolution starts from, and what stands in when it fails. */
export function emptyModel(): Model {
  return {
    platforms: new Map(),
    guests: new Map(),
    pools: new Map(),
    timelines: new Map(),
    firmwares: new Map(),
    comments: new Map(),
    xens: new Map(),
    vintfs: new Map(),
    commands: [],
    symbols: [],
    references: [],
    unresolved: [],
  };
}
