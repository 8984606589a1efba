/**
 * IoMmuDxe's reserved shared memory pool (edk2 c4e76d2fba, edk2-stable202302 on): in a
 * confidential guest, bounce buffers and AllocateBuffer() memory come from slots that were
 * decrypted once at start-up, so their Unmap() or FreeBuffer() only clears a bit: no
 * FreePages, no re-encryption. A request takes the smallest slot size its pages fit in; when
 * every slot of that size is taken it falls back to AllocatePages ("legacy"), never to a
 * larger size (IoMmuBuffer.c, InternalAllocateBuffer).
 */
import type { Firmware, FwMapping } from '../model/types';
import { formatSize } from '../../../model/interval';
import { atLeast } from '../../../model/versions';
import { isCommonBuffer } from './pciIo';

/** The first EDK II release with the pool (c4e76d2fba). */
export const POOL_SINCE = 'edk2-stable202302';

const KIB = 1024n;
const PAGE = 4n * KIB;

/** IoMmuBuffer.c mReservedMemRanges: each slot's data size and how many there are. */
export const POOL_SIZES: readonly { bytes: bigint; slots: number }[] = [
  { bytes: 4n * KIB, slots: 4 },
  { bytes: 32n * KIB, slots: 8 },
  { bytes: 128n * KIB, slots: 2 },
  { bytes: 1024n * KIB, slots: 1 },
  { bytes: 2048n * KIB, slots: 2 },
];

/** Where a mapping's shared memory came from. */
export interface SharedPoolUse {
  /** The slot's data size; undefined: AllocatePages (too big, or every slot of its size taken). */
  slot?: bigint;
  /** Why, for messages and hovers. */
  why: string;
}

const pages = (bytes: bigint) => (bytes + PAGE - 1n) / PAGE;

/**
 * Which mappings of `fw` hold a pool slot at ExitBootServices. The description gives the state
 * at ExitBootServices, not the history, so the buffers still held are taken in the order they
 * are written: BusMasterRead/Write mappings not yet unmapped (a `completed` one returned its
 * slot), and CommonBuffer memory from AllocateBuffer() (one page more, for IoMmuDxe's header).
 * Empty outside a confidential guest or before the pool existed.
 */
export function sharedPoolUses(fw: Firmware): Map<FwMapping, SharedPoolUse> {
  const out = new Map<FwMapping, SharedPoolUse>();
  if (!fw.guest?.confidential || !atLeast(fw.edk2, POOL_SINCE)) return out;
  const taken = POOL_SIZES.map(() => 0);
  for (const d of fw.drivers)
    for (const m of d.maps.values()) {
      const op = m.operation;
      if (!op || m.size === undefined || m.state === 'completed') continue;
      const common = isCommonBuffer(op);
      if (common && m.source !== 'allocate-buffer') continue;
      // IoMmuAllocateBuffer: CommonBufferPages = Pages + 1 (the COMMON_BUFFER_HEADER page).
      const need = pages(m.size) + (common ? 1n : 0n);
      const i = POOL_SIZES.findIndex((s) => need <= pages(s.bytes));
      const what = `${need} page${need === 1n ? '' : 's'}${common ? " (one for IoMmuDxe's header)" : ''}`;
      if (i < 0) {
        out.set(m, { why: `${what} is more than the pool's largest slot (2 MiB), so it comes from AllocatePages()` });
        continue;
      }
      const size = POOL_SIZES[i]!;
      if (taken[i]! >= size.slots) {
        out.set(m, {
          why:
            `${what} fits a ${formatSize(size.bytes)} slot, but all ${size.slots} are held by ` +
            'the mappings written before it, so it comes from AllocatePages()',
        });
        continue;
      }
      taken[i]!++;
      out.set(m, {
        slot: size.bytes,
        why:
          `${what}: ${formatSize(size.bytes)} slot ${taken[i]} of ${size.slots} of ` +
          "IoMmuDxe's reserved shared pool, decrypted once at start-up",
      });
    }
  return out;
}
