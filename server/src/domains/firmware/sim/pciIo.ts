/**
 * What `PciIo.Map()` / `Unmap()` do for each DMA operation when OVMF's IoMmuDxe sits
 * behind them (RULES §7.1–7.2; edk2 `OvmfPkg/IoMmuDxe/CcIoMmu.c`), and the checks that
 * need only the `map` statement itself: where the buffer came from and where it is.
 */
import type { Span } from '@iommu-lens/grammar';
import { formatSize, hex, type Finding, type TextEdit } from '../../../model';
import type { DmaOperation, FwMapping } from '../model/types';
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

/** What a BusMasterRead/Write Unmap() does with its bounce buffer since the reserved pool (c4e76d2fba, 47b9521513). */
export const POOL_NOTE =
  'since edk2-stable202302 a bounce buffer of up to 2 MiB that finds a free slot of its size in ' +
  "IoMmuDxe's reserved shared pool stays shared, and Unmap() zeroes it and only returns the slot";

/**
 * For hovers: what Map and Unmap do with this operation in a confidential guest. Every
 * driver `Unmap()` frees its MAP_INFO with FreePool(), CommonBuffer included (IoMmuUnmap ->
 * IoMmuUnmapWorker(MemoryMapLocked=FALSE); edk2 9ed745b967, in every release with IoMmuDxe).
 */
export function operationMeaning(op: DmaOperation): string {
  // OVMF x86 root bridges have DmaAbove4G = FALSE: PciRootBridgeIo.c clears 64-bit support before IoMmu->Map().
  const bounce = is64(op)
    ? 'a bounce buffer (below 4 GiB on OVMF x86, whose root bridges clear 64-bit support)'
    : 'a bounce buffer below 4 GiB';
  switch (op) {
    case 'bus-master-read':
    case 'bus-master-read64':
      return (
        `the device reads: Map() copies the buffer into ${bounce}, shared (decrypted) with the host; Unmap() ` +
        `zeroes and frees the bounce buffer and frees its MAP_INFO with FreePool() (${POOL_NOTE})`
      );
    case 'bus-master-write':
    case 'bus-master-write64':
      return (
        `the device writes: Map() sets up ${bounce}, shared (decrypted) with the host; Unmap() copies it ` +
        `back, zeroes and frees it and frees its MAP_INFO with FreePool() (${POOL_NOTE})`
      );
    default:
      return (
        'the device reads and writes the buffer itself: Map() decrypts it in place (it must come from AllocateBuffer() and lie ' +
        'below 4 GiB); Unmap() re-encrypts it in place and frees its MAP_INFO with FreePool() (edk2 9ed745b967)'
      );
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

/** Where a firmware runs: whether IoMmuDxe is there, and whether its root bridges clear 64-bit DMA. */
export interface FirmwareSetting {
  /** IoMmuDxe installs the IOMMU protocol only under SEV or TDX (IoMmuDxeEntryPoint); elsewhere IoMmuAbsentProtocol. */
  confidential: boolean;
  /** OVMF x86's PciHostBridgeLib passes DmaAbove4G = FALSE, so 64-bit operations are mapped as 32-bit ones. */
  dma32: boolean;
}

/** Drops `at ADDRESS` (with the blank before it) and takes the buffer from AllocateBuffer(), which OVMF places below 4 GiB. */
function allocateBelow4g(uri: string, m: FwMapping): TextEdit[] {
  const i = m.stmt.options.findIndex((o) => o.key.text === 'at');
  const at = m.stmt.options[i];
  if (!at) return [fromAllocateBuffer(uri, m)];
  const before = i > 0 ? m.stmt.options[i - 1]!.span.end : m.stmt.operation!.span.end;
  return [{ uri, span: { start: before, end: at.span.end }, newText: '' }, fromAllocateBuffer(uri, m)];
}

/** The checks one `map` statement settles by itself. */
export function checkMapping(uri: string, m: FwMapping, setting: FirmwareSetting, out: Finding[]): void {
  const op = m.operation;
  if (!op) return;
  if (isCommonBuffer(op) && m.source && m.source !== 'allocate-buffer') {
    out.push(
      finding(
        'fw-common-buffer-source',
        { uri, span: optionSpan(m, 'from') ?? m.stmt.span },
        `${m.sym.name} is ${EFI_OPERATION[op]} over memory from ${m.source === 'allocate-pool' ? 'AllocatePool()' : 'AllocatePages()'}: ` +
          'Map() expects the COMMON_BUFFER_HEADER page AllocateBuffer() puts in front of the buffer ' +
          '(ASSERT (CommonBufferHeader->Signature == COMMON_BUFFER_SIG) in a DEBUG build; a RELEASE build stashes the data through ' +
          'whatever that page holds, and since edk2-stable202302 reads its ReservedMemBitmap) (RULES §7.2)',
        { fixes: [{ title: 'Allocate it with AllocateBuffer()', edits: [fromAllocateBuffer(uri, m)] }] },
      ),
    );
  }
  // BusMasterRead/Write are always bounced (32-bit ones below 4 GiB), wherever the buffer lies: nothing to report.
  if (!isCommonBuffer(op) || m.at === undefined || (is64(op) && !setting.dma32)) return;
  const size = m.size ?? 1n;
  // IoMmuMap tests whole pages (EFI_PAGES_TO_SIZE (NumberOfPages) > BASE_4GB - CryptedAddress); the root bridge tests bytes.
  const length = setting.confidential ? ((size + 0xfffn) >> 12n) << 12n : size;
  if (m.at + length <= FOUR_GIB) return;
  const narrowed = is64(op)
    ? "OVMF's x86 root bridges have DmaAbove4G = FALSE, so PciRootBridgeIo's Map() " +
      'passes it on as BusMasterCommonBuffer ("Clear 64bit support"); then '
    : '';
  const refusal = setting.confidential
    ? `IoMmuDxe's Map() returns EFI_UNSUPPORTED ("CommonBuffer operations cannot be remapped. If the common ` +
      'buffer is above 4GB, then it is not possible to generate a mapping"; CcIoMmu.c IoMmuMap)'
    : `the root bridge's Map() returns EFI_UNSUPPORTED ("Common Buffer operations can not be remapped"; PciRootBridgeIo.c RootBridgeIoMap)`;
  out.push(
    finding(
      'fw-32bit-above-4g',
      { uri, span: m.stmt.span },
      `${m.sym.name} (${hex(m.at)}, ${formatSize(size)}) reaches above 4 GiB but is mapped ${EFI_OPERATION[op]}: ${narrowed}${refusal}. ` +
        'Allocate it with AllocateBuffer(), which places it below 4 GiB',
      { fixes: [{ title: 'Allocate it with AllocateBuffer() (below 4 GiB)', edits: allocateBelow4g(uri, m) }] },
    ),
  );
}
