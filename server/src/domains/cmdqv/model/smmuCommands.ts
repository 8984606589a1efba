/**
 * The SMMUv3 commands a `commands` block may name: opcode numbers and operand fields as
 * the architecture (IHI 0070) and Linux's arm-smmu-v3 driver define them. Names drop the
 * `CMD_` prefix except CMD_SYNC, as the kernel's CMDQ_OP_* constants do.
 */

export type SmmuCommandClass = 'prefetch' | 'config' | 'tlbi-stage1' | 'tlbi-stage2' | 'tlbi-el2' | 'atc' | 'pri' | 'stall' | 'sync';

export interface SmmuOpcode {
  code: number;
  cls: SmmuCommandClass;
  /** Operand fields, in the order a bare leading number fills the first. */
  fields: readonly string[];
  /** Fields that are flags (no value). */
  flags?: readonly string[];
  what: string;
}

export const SMMU_OPCODES: Record<string, SmmuOpcode> = {
  PREFETCH_CONFIG: { code: 0x01, cls: 'prefetch', fields: ['sid', 'ssid'], what: 'prefetch the configuration of a stream' },
  PREFETCH_ADDR: { code: 0x02, cls: 'prefetch', fields: ['sid', 'ssid', 'addr'], what: 'prefetch a translation' },
  CFGI_STE: {
    code: 0x03,
    cls: 'config',
    fields: ['sid', 'leaf'],
    flags: ['leaf'],
    what: 'invalidate the cached Stream Table Entry of a stream',
  },
  CFGI_STE_RANGE: { code: 0x04, cls: 'config', fields: ['sid', 'range'], what: 'invalidate the cached STEs of a range of streams' },
  CFGI_ALL: { code: 0x04, cls: 'config', fields: [], what: 'invalidate every cached STE and CD (CFGI_STE_RANGE over all streams)' },
  CFGI_CD: { code: 0x05, cls: 'config', fields: ['sid', 'ssid', 'leaf'], flags: ['leaf'], what: 'invalidate a cached Context Descriptor' },
  CFGI_CD_ALL: { code: 0x06, cls: 'config', fields: ['sid'], what: 'invalidate every cached CD of a stream' },
  CFGI_VMS_PIDM: { code: 0x07, cls: 'config', fields: ['vmid'], what: 'invalidate the VMS PARTID map' },
  TLBI_NH_ALL: { code: 0x10, cls: 'tlbi-stage1', fields: ['vmid'], what: 'invalidate all stage-1 (non-hypervisor) TLB entries of a VMID' },
  TLBI_NH_ASID: { code: 0x11, cls: 'tlbi-stage1', fields: ['asid', 'vmid'], what: 'invalidate the stage-1 TLB entries of an ASID' },
  TLBI_NH_VA: {
    code: 0x12,
    cls: 'tlbi-stage1',
    fields: ['va', 'asid', 'vmid', 'leaf', 'num', 'scale', 'ttl', 'tg'],
    flags: ['leaf'],
    what: 'invalidate the stage-1 TLB entries of a VA in an ASID',
  },
  TLBI_NH_VAA: {
    code: 0x13,
    cls: 'tlbi-stage1',
    fields: ['va', 'vmid', 'leaf'],
    flags: ['leaf'],
    what: 'invalidate the stage-1 TLB entries of a VA in every ASID',
  },
  TLBI_EL3_ALL: { code: 0x18, cls: 'tlbi-el2', fields: [], what: 'invalidate all EL3 TLB entries' },
  TLBI_EL3_VA: { code: 0x1a, cls: 'tlbi-el2', fields: ['va', 'leaf'], flags: ['leaf'], what: 'invalidate the EL3 TLB entries of a VA' },
  TLBI_EL2_ALL: { code: 0x20, cls: 'tlbi-el2', fields: [], what: 'invalidate all EL2 TLB entries' },
  TLBI_EL2_ASID: { code: 0x21, cls: 'tlbi-el2', fields: ['asid'], what: 'invalidate the EL2 TLB entries of an ASID' },
  TLBI_EL2_VA: {
    code: 0x22,
    cls: 'tlbi-el2',
    fields: ['va', 'asid', 'leaf'],
    flags: ['leaf'],
    what: 'invalidate the EL2 TLB entries of a VA',
  },
  TLBI_EL2_VAA: {
    code: 0x23,
    cls: 'tlbi-el2',
    fields: ['va', 'leaf'],
    flags: ['leaf'],
    what: 'invalidate the EL2 TLB entries of a VA in every ASID',
  },
  TLBI_S12_VMALL: { code: 0x28, cls: 'tlbi-stage2', fields: ['vmid'], what: 'invalidate every stage-1 and stage-2 TLB entry of a VMID' },
  TLBI_S2_IPA: {
    code: 0x2a,
    cls: 'tlbi-stage2',
    fields: ['ipa', 'vmid', 'leaf', 'num', 'scale', 'ttl', 'tg'],
    flags: ['leaf'],
    what: 'invalidate the stage-2 TLB entries of an IPA',
  },
  TLBI_NSNH_ALL: { code: 0x30, cls: 'tlbi-el2', fields: [], what: 'invalidate all non-secure, non-hypervisor TLB entries of every VMID' },
  ATC_INV: {
    code: 0x40,
    cls: 'atc',
    fields: ['sid', 'ssid', 'addr', 'size', 'global'],
    flags: ['global'],
    what: "invalidate a device's ATS translation cache (ATC)",
  },
  PRI_RESP: { code: 0x41, cls: 'pri', fields: ['sid', 'ssid', 'grpid', 'resp'], what: 'respond to a PRI page request' },
  RESUME: { code: 0x44, cls: 'stall', fields: ['sid', 'stag'], what: 'resume a stalled transaction' },
  STALL_TERM: { code: 0x45, cls: 'stall', fields: ['sid'], what: 'terminate the stalled transactions of a stream' },
  CMD_SYNC: {
    code: 0x46,
    cls: 'sync',
    fields: [],
    what: 'complete every earlier command of the queue (the consumer passes it only when they are done)',
  },
};

/** What a guest-owned VINTF's queues take (tegra241-cmdqv.c, tegra241_guest_vcmdq_supports_cmd; RULES §9.2). */
export const GUEST_VCMDQ_COMMANDS: ReadonlySet<string> = new Set(['TLBI_NH_ASID', 'TLBI_NH_VA', 'ATC_INV', 'CMD_SYNC']);

/** Stage-2 invalidations: a guest whose vSMMU has no stage 2 must not issue them (RULES §9.4). */
export const STAGE2_COMMANDS: ReadonlySet<string> = new Set(['TLBI_S2_IPA', 'TLBI_S12_VMALL']);
