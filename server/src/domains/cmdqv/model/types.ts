/** VINTFs and SMMU command blocks: their part of the model. */
import type * as A from '@iommu-lens/grammar';
import type { Device, Guest, Iommu, Sym } from '../../../model/types';

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

declare module '../../../model/types' {
  interface SymbolKinds {
    vintf: true;
  }
  interface Model {
    vintfs: Map<string, Vintf>;
    commands: CommandsBlock[];
  }
  interface Iommu {
    /** A Tegra241 CMDQV: its `1 << LOG2` counts from CMDQV_PARAM (VINTFs, VCMDQs, SID pairs per VINTF). */
    cmdqv?: { vintfs?: bigint; sidsPerVintf?: bigint; vcmdqs?: bigint };
  }
}
