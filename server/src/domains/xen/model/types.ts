/** Xen hosts and their domains, as written: their part of the model. */
import type * as A from '@iommu-lens/grammar';
import type { Device, GuestRam, Platform, Sym } from '../../../model/types';
import type { Interval } from '../../../model/interval';
import type { Release } from '../../../model/versions';

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

declare module '../../../model/types' {
  interface SymbolKinds {
    xen: true;
    domain: true;
  }
  interface Model {
    xens: Map<string, Xen>;
  }
  interface ResolvedStep {
    /** `balloon`/`free` on a Xen domain. */
    domain?: XenDomain;
  }
}
