/**
 * What `PciIo.Map()` / `Unmap()` do for each DMA operation when OVMF's IoMmuDxe sits
 * behind them (RULES §7.1–7.2; edk2 `OvmfPkg/IoMmuDxe/CcIoMmu.c`), and the checks that
 * need only the `map` statement itself: where the buffer came from and where it is.
 */
import type { Span } from '@iommu-lens/grammar';
import { formatSize, hex, type DmaOperation, type Finding, type Fix, type FwMapping, type TextEdit } from '../../../model';
import { finding } from '../codes';

export const FOUR_GIB = 0x1_0000_0000n;

/** The EDK II names, as in `EDKII_IOMMU_OPERATION` and debug logs. */
export const EFI_OPERATION: Record<DmaOperation, string> = {
  'bus-master-read': 'BusMasterRead',
  'bus-master-write': 'BusMasterWrite',
  'common-buffer': 'BusMasterCommonBuffer',
  'bus-master-read64': 'BusMasterRead64',
  'bus-master-write64': 'BusMasterWrite64',
  'common-buffer64': 'BusMasterCommonBuffer64',
};

export function isCommonBuffer(op: DmaOperation): boolean {
  return op.startsWith('common-buffer');
}
export function is64(op: DmaOperation): boolean {
  return op.endsWith('64');
}

/**
 * A driver's `Unmap()` of a BusMasterRead/Write mapping zeroes and frees its bounce
 * buffer; CommonBuffer is re-encrypted in place and frees nothing (RULES §7.1–7.2).
 */
export function unmapFrees(m: FwMapping): boolean {
  return !!m.operation && !isCommonBuffer(m.operation);
}

/** The CommonBuffer variant of an operation, keeping its width. */
export function commonBufferOf(op: DmaOperation): DmaOperation {
  return is64(op) ? 'common-buffer64' : 'common-buffer';
}

/** For hovers: what Map and Unmap do with this operation in a confidential guest. */
export function operationMeaning(op: DmaOperation): string {
  const bounce = is64(op) ? 'a bounce buffer anywhere in memory' : 'a bounce buffer below 4 GiB';
  switch (op) {
    case 'bus-master-read':
    case 'bus-master-read64':
      return `the device reads: Map() copies the buffer into ${bounce}, shared (decrypted) with the host; Unmap() zeroes and frees the bounce buffer`;
    case 'bus-master-write':
    case 'bus-master-write64':
      return `the device writes: Map() sets up ${bounce}, shared (decrypted) with the host; Unmap() copies it back, zeroes and frees it`;
    default:
      return `the device reads and writes the buffer itself: Map() decrypts it in place (it must come from AllocateBuffer()${is64(op) ? '' : ' and lie below 4 GiB'}); Unmap() re-encrypts it in place and frees nothing`;
  }
}

function optionSpan(m: FwMapping, key: string): Span | undefined {
  return m.stmt.options.find((o) => o.key.text === key)?.span;
}

/** Makes the buffer come from AllocateBuffer(): replaces `from ...`, or adds it. */
function fromAllocateBuffer(uri: string, m: FwMapping): TextEdit {
  const from = optionSpan(m, 'from');
  return from
    ? { uri, span: from, newText: 'from allocate-buffer' }
    : { uri, span: { start: m.stmt.span.end, end: m.stmt.span.end }, newText: ' from allocate-buffer' };
}

/** Rewrites the mapping to `op` taken from AllocateBuffer(): the CommonBuffer fix for pending DMA. */
export function toCommonBufferFix(uri: string, m: FwMapping, op: DmaOperation, title: string): Fix {
  return { title, edits: [{ uri, span: m.stmt.operation!.span, newText: op }, fromAllocateBuffer(uri, m)] };
}

/** The checks one `map` statement settles by itself. */
export function checkMapping(uri: string, m: FwMapping, confidential: boolean, out: Finding[]): void {
  const op = m.operation;
  if (!op) return;
  const at = { uri, span: m.stmt.span };
  if (isCommonBuffer(op) && m.source && m.source !== 'allocate-buffer') {
    out.push(
      finding(
        'fw-common-buffer-source',
        { uri, span: optionSpan(m, 'from') ?? m.stmt.span },
        `${m.sym.name} is ${EFI_OPERATION[op]} over memory from ${m.source === 'allocate-pool' ? 'AllocatePool()' : 'AllocatePages()'}: ` +
          'Map() expects the COMMON_BUFFER_HEADER page AllocateBuffer() puts in front of the buffer ' +
          '(ASSERT (CommonBufferHeader->Signature == COMMON_BUFFER_SIG) in a DEBUG build; a RELEASE build stashes the data through whatever that page holds) (RULES §7.2)',
        { fixes: [{ title: 'Allocate it with AllocateBuffer()', edits: [fromAllocateBuffer(uri, m)] }] },
      ),
    );
  }
  if (!is64(op) && m.at !== undefined) {
    const last = m.at + (m.size ?? 1n) - 1n;
    if (last >= FOUR_GIB) {
      const wide = `${op}64` as DmaOperation;
      const fix: Fix = {
        title: `Use ${EFI_OPERATION[wide]} (the device must do 64-bit DMA)`,
        edits: [{ uri, span: m.stmt.operation!.span, newText: wide }],
      };
      const where = `${m.sym.name} (${hex(m.at)}, ${formatSize(m.size ?? 1n)}) reaches above 4 GiB`;
      out.push(
        isCommonBuffer(op)
          ? finding(
              'fw-32bit-above-4g',
              at,
              `${where} but is mapped ${EFI_OPERATION[op]}: Map() returns EFI_UNSUPPORTED ("CommonBuffer operations cannot be remapped. If the common buffer is above 4GB, then it is not possible to generate a mapping"). Allocate it below 4 GiB (AllocateBuffer() without DUAL_ADDRESS_CYCLE) or map it 64-bit`,
              { fixes: [fix] },
            )
          : finding(
              'fw-32bit-above-4g',
              at,
              confidential
                ? `${where} but is mapped ${EFI_OPERATION[op]}: IoMmuDxe must then allocate its bounce buffer below 4 GiB, out of scarce low memory`
                : `${where} but is mapped ${EFI_OPERATION[op]}: the root bridge bounces it through a buffer below 4 GiB, a copy on every transfer out of scarce low memory`,
              { severity: 'warning', fixes: [fix] },
            ),
      );
    }
  }
}
