/** The CMDQV domain's vocabulary: SMMUv3 command operand fields, for completion. */

/** SMMUv3 command operand fields (IHI 0070, Linux's arm-smmu-v3 CMDQ_* fields). */
export const SMMU_FIELD_DOCS: Readonly<Record<string, string>> = {
  sid: 'StreamID: the stream the command is about.',
  ssid: 'SubstreamID (PASID).',
  addr: 'The address (prefetch, or the start of an ATC invalidation).',
  leaf: 'Flag: only leaf (last-level) entries need invalidating.',
  range: 'The number of streams (log2) of the range.',
  vmid: 'VMID: the virtual machine the entries belong to; a VINTF replaces it with its own.',
  asid: 'ASID: the stage-1 address space.',
  va: 'The virtual address to invalidate.',
  num: 'Range invalidation: the number of pages.',
  scale: 'Range invalidation: the scale of the page count.',
  ttl: 'Translation table level hint.',
  tg: 'Translation granule hint.',
  ipa: 'The intermediate physical address (stage 2) to invalidate.',
  size: 'The size (log2 of pages) of the ATC invalidation.',
  global: 'Flag: invalidate every substream of the stream.',
  grpid: 'The PRI page-request group.',
  resp: 'The PRI response code.',
  stag: 'The stall tag of the transaction to resume.',
};
