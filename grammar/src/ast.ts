/**
 * The .iommu AST. Every node has a `span` (UTF-16 offsets into its file, end exclusive).
 * After a syntax error a node may lack parts, so everything the parser could miss is
 * optional: consumers check, never assume. The domains' nodes are in their files under
 * `domains/` (exported from here as well); the unions below take them from the registry.
 */
import type { DomainNode } from './domains';
import type { Braces, Node, NumLit, OptionLit, RamDecl, RangeLit, Ref, ReleaseLit, Span, UnknownStatement, Word } from './nodes';

export * from './nodes';
export type * from './domains';

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
export type IommuItem = AddressWidthStmt | MsiModeStmt | PageSizesStmt | DomainNode<'iommuBody'> | HtRangeIgnoreStmt | UnknownStatement;
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
export type DeviceItem =
  | BdfStmt
  | DeviceIommuStmt
  | GroupStmt
  | DomainNode<'deviceBody'>
  | QuirkStmt
  | VfOfStmt
  | ClassStmt
  | UnknownStatement;
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
  | DomainNode<'guestBody'>
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

// ----- file ----------------------------------------------------------------------

/** A step of a timeline: every domain's steps. */
export type Step = DomainNode<'steps'> | UnknownStatement;

declare module './nodes' {
  interface Assembled {
    step: Step;
  }
}

export type Decl = PlatformDecl | GuestDecl | DomainNode<'declarations'> | UnknownStatement;

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
