/** Firmware images, their drivers, mappings and notify functions: their part of the model. */
import type * as A from '@iommu-lens/grammar';
import type { Device, Guest, Sym } from '../../../model/types';
import type { Release } from '../../../model/versions';

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

declare module '../../../model/types' {
  interface SymbolKinds {
    firmware: true;
    driver: true;
    mapping: true;
    event: true;
  }
  interface Model {
    firmwares: Map<string, Firmware>;
  }
}
