/**
 * The .iommu AST. Every node has a `span` (UTF-16 offsets into its file, end exclusive).
 * After a syntax error a node may lack parts, so everything the parser could miss is
 * optional: consumers check, never assume.
 */
import type { Braces, Node, NumLit, OptionLit, RamDecl, RangeLit, ReleaseLit, Ref, Span, UnknownStatement, Word } from './nodes';

export * from './nodes';

// ----- platform ------------------------------------------------------------------

export interface PlatformDecl extends Node {
  kind: 'platform';
  name?: Word;
  braces?: Braces;
  items: PlatformItem[];
}
export type PlatformItem =
  | ArchStmt
  | KernelStmt
  | IommuDecl
  | RamDecl
  | ReservedDecl
  | DeviceDecl
  | IoapicStmt
  | MmcfgStmt
  | DmaEntryLimitStmt
  | UnknownStatement;
/** `dma-entry-limit N`: vfio_iommu_type1's module parameter, the mappings one container may hold. */
export interface DmaEntryLimitStmt extends Node {
  kind: 'dma-entry-limit';
  value?: NumLit;
}
/** An IO-APIC's MMIO page (x86); Xen keeps it out of dom0's IOMMU map. */
export interface IoapicStmt extends Node {
  kind: 'ioapic';
  address?: NumLit;
}
/** The PCIe ECAM (MMCONFIG) window; Xen keeps it out of dom0's IOMMU map. */
export interface MmcfgStmt extends Node {
  kind: 'mmcfg';
  range?: RangeLit;
}

export interface ArchStmt extends Node {
  kind: 'arch';
  value?: Word;
}
/** `kernel 6.6`: the host's Linux release. */
export interface KernelStmt extends Node {
  kind: 'kernel';
  release?: ReleaseLit;
}
export interface IommuDecl extends Node {
  kind: 'iommu';
  name?: Word;
  iommuKind?: Word;
  braces?: Braces;
  items: IommuItem[];
}
export type IommuItem = AddressWidthStmt | MsiModeStmt | PageSizesStmt | CmdqvStmt | HtRangeIgnoreStmt | UnknownStatement;
/** `ht-range-ignore`: an AMD IOMMU reporting HTRangeIgnore in EFR2. */
export interface HtRangeIgnoreStmt extends Node {
  kind: 'ht-range-ignore';
}
export interface AddressWidthStmt extends Node {
  kind: 'address-width';
  value?: NumLit;
}
export interface MsiModeStmt extends Node {
  kind: 'msi-mode';
  value?: Word;
}
export interface PageSizesStmt extends Node {
  kind: 'page-sizes';
  sizes: NumLit[];
}
export interface CmdqvStmt extends Node {
  kind: 'cmdqv';
  vintfs?: NumLit;
  sidsPerVintf?: NumLit;
  vcmdqs?: NumLit;
}

export interface ReservedDecl extends Node {
  kind: 'reserved';
  name?: Word;
  regionType?: Word;
  range?: RangeLit;
  targets: RegionTarget[];
  /** `from rmrr | ivmd | linux-quirk | iort-rmr`. */
  origin?: Word;
}
export type RegionTarget = (Node & { kind: 'group'; group?: NumLit }) | (Node & { kind: 'ref'; ref: Ref });

export interface DeviceDecl extends Node {
  kind: 'device';
  name?: Word;
  braces?: Braces;
  items: DeviceItem[];
}
export type DeviceItem = BdfStmt | DeviceIommuStmt | GroupStmt | TdispFlag | QuirkStmt | VfOfStmt | ClassStmt | UnknownStatement;
export interface BdfStmt extends Node {
  kind: 'bdf';
  value?: Word;
}
export interface DeviceIommuStmt extends Node {
  kind: 'device-iommu';
  iommu?: Ref;
  /** The first stream ID. */
  stream?: NumLit;
  /** Every stream ID, the first included. */
  streams: NumLit[];
}
export interface GroupStmt extends Node {
  kind: 'group';
  value?: NumLit;
}
export interface TdispFlag extends Node {
  kind: 'tdisp-capable';
}
export interface QuirkStmt extends Node {
  kind: 'quirk';
  quirks: Word[];
}
export interface VfOfStmt extends Node {
  kind: 'vf-of';
  pf?: Ref;
}
export interface ClassStmt extends Node {
  kind: 'class';
  value?: Word;
}

// ----- guest ---------------------------------------------------------------------

export interface GuestDecl extends Node {
  kind: 'guest';
  name?: Word;
  platform?: Ref;
  braces?: Braces;
  items: GuestItem[];
}
export type GuestItem =
  | RamDecl
  | AssignStmt
  | MachineStmt
  | MsiWindowStmt
  | ConfidentialStmt
  | ViommuStmt
  | ContainerStmt
  | IommufdStmt
  | UnknownStatement;
export interface AssignStmt extends Node {
  kind: 'assign';
  device?: Ref;
  mode?: Word;
  dmaWindow?: RangeLit;
  /** `iommufd NAME`: the guest's iommufd instance the device uses (QEMU `iommufd=NAME`). */
  iommufd?: Word;
}
/** `iommufd NAME`: an iommufd instance of the guest (QEMU `-object iommufd,id=NAME`). */
export interface IommufdStmt extends Node {
  kind: 'iommufd';
  name?: Word;
}
export interface MachineStmt extends Node {
  kind: 'machine';
  machineType?: Word;
  options: OptionLit[];
}
export interface MsiWindowStmt extends Node {
  kind: 'msi-window';
  range?: RangeLit;
}
export interface ConfidentialStmt extends Node {
  kind: 'confidential';
  technology?: Word;
  braces?: Braces;
  items: (VtomStmt | UnknownStatement)[];
}
export interface VtomStmt extends Node {
  kind: 'vtom';
  value?: NumLit;
}
export interface ViommuStmt extends Node {
  kind: 'viommu';
  name?: Word;
  iommuKind?: Word;
  via?: Ref;
  stage2?: Word;
}
export interface ContainerStmt extends Node {
  kind: 'container';
  value?: Word;
}

// ----- pool and timeline ---------------------------------------------------------

export interface PoolDecl extends Node {
  kind: 'pool';
  name?: Word;
  braces?: Braces;
  hosts: Ref[];
}

export interface TimelineDecl extends Node {
  kind: 'timeline';
  name?: Word;
  braces?: Braces;
  steps: Step[];
}
export type Step =
  | (Node & { kind: 'start' | 'stop' | 'launch-update'; guest?: Ref })
  | (Node & { kind: 'migrate'; guest?: Ref; to?: Ref })
  | (Node & { kind: 'hotplug'; device?: Ref; guest?: Ref; mode?: Word; dmaWindow?: RangeLit; iommufd?: Word })
  | (Node & { kind: 'unplug'; device?: Ref; guest?: Ref })
  | (Node & { kind: 'tdisp'; device?: Ref; message?: Word })
  | ConfigStep
  | (Node & { kind: 'power' | 'link'; device?: Ref; state?: Word })
  | (Node & { kind: 'convert'; device?: Ref; mode?: Word })
  | (Node & { kind: 'balloon' | 'free'; target?: Ref; range?: RangeLit })
  | UnknownStatement;
/** `config D command MSE BME`, `config D bar 0 0xfe000000`, `config D flr`, ... */
export interface ConfigStep extends Node {
  kind: 'config';
  device?: Ref;
  what?: Word;
  bits: Word[];
  bar?: NumLit;
  value?: NumLit;
  /** `sriov vf-enable off | vf-mse off | numvfs N`: the SR-IOV field written (`value` holds N). */
  sriovField?: Word;
}

// ----- firmware ------------------------------------------------------------------

export interface FirmwareDecl extends Node {
  kind: 'firmware';
  name?: Word;
  guest?: Ref;
  braces?: Braces;
  items: FirmwareItem[];
}
export type FirmwareItem = Edk2Stmt | DriverDecl | IommuProtocolDecl | UnknownStatement;
/** `edk2 edk2-stable202411`: the EDK II release of a firmware. */
export interface Edk2Stmt extends Node {
  kind: 'edk2';
  release?: ReleaseLit;
}
export interface DriverDecl extends Node {
  kind: 'driver';
  name?: Word;
  device?: Ref;
  braces?: Braces;
  items: (MapStmt | HandlerStmt | UnknownStatement)[];
}
export interface MapStmt extends Node {
  kind: 'map';
  name?: Word;
  operation?: Word;
  options: OptionLit[];
}
export interface HandlerStmt extends Node {
  kind: 'handler';
  /** `exit-boot-services`, `before-exit-boot-services`, or `event` with `eventName`. */
  event?: Word;
  eventName?: Word;
  tpl?: Word;
  braces?: Braces;
  actions: (Action | UnknownStatement)[];
}
export interface Action extends Node {
  kind: 'action';
  verb: Word;
  target?: Ref;
  deferred?: Word;
  service?: Word;
}
export interface IommuProtocolDecl extends Node {
  kind: 'iommu-protocol';
  braces?: Braces;
  handlers: (HandlerStmt | UnknownStatement)[];
}

// ----- xen -----------------------------------------------------------------------

export interface XenDecl extends Node {
  kind: 'xen';
  name?: Word;
  platform?: Ref;
  braces?: Braces;
  items: (Dom0Decl | DomainDecl | XenRangeStmt | XenQuarantineStmt | XenVersionStmt | UnknownStatement)[];
}
/** Memory Xen keeps for itself (image, heap, stubs): never identity-mapped for dom0. */
export interface XenRangeStmt extends Node {
  kind: 'xen-range';
  range?: RangeLit;
}
/** `xen 4.17`: the hypervisor's release. */
export interface XenVersionStmt extends Node {
  kind: 'xen-version';
  release?: ReleaseLit;
}
/** `quarantine MODE` in the xen block: Xen's global `iommu=quarantine=` option. */
export interface XenQuarantineStmt extends Node {
  kind: 'quarantine';
  value?: Word;
}
export interface Dom0Decl extends Node {
  kind: 'dom0';
  braces?: Braces;
  items: XenItem[];
}
export interface DomainDecl extends Node {
  kind: 'domain';
  name?: Word;
  braces?: Braces;
  items: XenItem[];
}
export type XenItem =
  | (Node & { kind: 'mode' | 'map-reserved' | 'iommu-map' | 'quarantine'; value?: Word })
  | (Node & { kind: 'dom0-iommu'; values: Word[] })
  | (Node & { kind: 'pass'; devices: Ref[]; policy?: Word })
  | (Node & { kind: 'rdm'; strategy?: Word; policy?: Word })
  | RamDecl
  | UnknownStatement;

// ----- SMMU CMDQV ----------------------------------------------------------------

export interface VintfDecl extends Node {
  kind: 'vintf';
  name?: Word;
  iommu?: Ref;
  guest?: Ref;
  braces?: Braces;
  items: VintfItem[];
}
export type VintfItem =
  | (Node & { kind: 'owner' | 'hyp-own'; value?: Word })
  | (Node & { kind: 'stream'; device?: Ref; virtualSid?: NumLit })
  | (Node & { kind: 'vmid'; value?: NumLit })
  | (Node & { kind: 'queue'; index?: NumLit; size?: NumLit; base?: NumLit })
  | UnknownStatement;
export interface CommandsDecl extends Node {
  kind: 'commands';
  vintf?: Ref;
  braces?: Braces;
  batches: (BatchDecl | UnknownStatement)[];
}
export interface BatchDecl extends Node {
  kind: 'batch';
  braces?: Braces;
  commands: (SmmuCommand | UnknownStatement)[];
}
export interface SmmuCommand extends Node {
  kind: 'smmu-command';
  opcode: Word;
  operands: (NumLit | Word)[];
}

// ----- file ----------------------------------------------------------------------

export type Decl =
  | PlatformDecl
  | GuestDecl
  | TimelineDecl
  | PoolDecl
  | FirmwareDecl
  | XenDecl
  | VintfDecl
  | CommandsDecl
  | UnknownStatement;

export type SyntaxCode =
  | 'syntax-error'
  | 'unknown-statement'
  | 'missing-separator'
  | 'unclosed-block'
  | 'invalid-character'
  | 'unterminated-comment';

export interface SyntaxDiagnostic {
  code: SyntaxCode;
  message: string;
  span: Span;
  related?: { span: Span; message: string }[];
}

export interface SourceFile {
  decls: Decl[];
  /** Spans of every comment, in order (kept for the formatter and folding). */
  comments: Span[];
  diagnostics: SyntaxDiagnostic[];
  /** Length of the text parsed, so "end of file" has a position. */
  length: number;
}
