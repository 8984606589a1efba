/**
 * Every finding code, with its default severity and a one-line summary. Codes are
 * stable: tests, settings and docs/diagnostics.md refer to them (a test checks that
 * every code here has its entry there).
 */
import { findingBuilder, type CodeInfo, type Finding } from './findings';

export type { CodeInfo } from './findings';

export const CODES = {
  // ----- syntax (grammar/) -----
  'syntax-error': { severity: 'error', summary: 'The text does not follow the grammar.' },
  'unknown-statement': { severity: 'error', summary: 'A line starts with a word the enclosing block does not accept.' },
  'missing-separator': { severity: 'error', summary: "Two statements on one line without ';' between them." },
  'unclosed-block': { severity: 'error', summary: "A '{' is never closed." },
  'invalid-character': { severity: 'error', summary: 'A character that is not part of the language.' },
  'invalid-utf8': {
    severity: 'error',
    summary: 'Bytes that are not UTF-8 (read as U+FFFD); reported by the CLI, which reads files as bytes.',
  },
  'unterminated-comment': { severity: 'error', summary: "A '/*' comment is never closed." },
  'file-too-large': { severity: 'error', summary: 'The file is larger than the configured limit and was not analysed.' },
  'workspace-too-large': {
    severity: 'warning',
    summary: 'The language server read the workspace up to its limit and left the rest unread; unknown-name is not reported.',
  },
  'internal-error': { severity: 'error', summary: 'A check failed inside IOMMU Lens (a bug); the other checks still ran.' },
  // ----- numbers and ranges (model/numbers.ts) -----
  'invalid-number': { severity: 'error', summary: 'A number with a bad digit, misplaced `_` or unknown unit.' },
  'number-too-large': { severity: 'error', summary: 'A value above 0xffff_ffff_ffff_ffff.' },
  'unit-not-allowed': { severity: 'error', summary: 'A size unit on a value that is a count, not a size.' },
  'value-out-of-range': { severity: 'error', summary: 'A value outside what the real system accepts (address width, phys-bits, ...).' },
  'zero-size': { severity: 'error', summary: 'A range of size 0.' },
  'range-reversed': { severity: 'error', summary: 'A range whose END is below its START.' },
  'range-wraps': { severity: 'error', summary: 'A range that runs past 0xffff_ffff_ffff_ffff.' },
  'invalid-bdf': { severity: 'error', summary: 'A PCI address outside segment 0-ffff, bus 0-ff, device 0-1f, function 0-7.' },
  // ----- names (model/resolve.ts) -----
  'unknown-name': { severity: 'error', summary: 'A reference to a name that is not declared where it is looked up.' },
  'duplicate-name': { severity: 'error', summary: 'A name declared twice in one scope.' },
  'wrong-kind': { severity: 'error', summary: 'A name of the wrong kind, e.g. an IOMMU where a device is expected.' },
  'wrong-platform': { severity: 'error', summary: 'A qualified name from another platform than the one the statement is about.' },
  'ambiguous-name': { severity: 'error', summary: 'A device name several platforms in play have; qualify it.' },
  'duplicate-setting': { severity: 'warning', summary: 'A setting given twice in one block; the last one wins.' },
  'duplicate-bdf': { severity: 'error', summary: 'Two devices of one platform at the same PCI address.' },
  'unknown-value': { severity: 'error', summary: 'A register bit, device quirk, SMMU command or operand the simulator does not know.' },
  // ----- VFIO containers and guest RAM (sim/guests.ts) -----
  'ram-over-doorbell': {
    severity: 'error',
    summary: 'Guest RAM over an MSI doorbell window (msi, sw-msi or the msi-window) of an assigned group.',
  },
  'ram-over-reserved': { severity: 'error', summary: 'Guest RAM over a reserved or direct region of an assigned group.' },
  'ram-beyond-aperture': { severity: 'error', summary: "Guest RAM beyond the IOMMU's address width (the aperture)." },
  'ram-overlap': { severity: 'error', summary: 'Two guest RAM ranges overlap; the second DMA map is -EEXIST.' },
  'ram-misaligned': { severity: 'error', summary: "Guest RAM not aligned to the IOMMU's smallest page." },
  'identity-map-required': {
    severity: 'error',
    summary: 'An assigned device with a direct region: it needs a 1:1 mapping and VFIO refuses it.',
  },
  'empty-iova-list': { severity: 'error', summary: "A group's regions cover its whole aperture: no usable IOVA." },
  'iommufd-msi-conflict': {
    severity: 'error',
    summary: 'iommufd: a device with a sw-msi window and a hardware msi, or two sw-msi windows.',
  },
  'no-iommu': { severity: 'error', summary: 'An assigned device that is behind no IOMMU.' },
  'device-assigned-twice': { severity: 'error', summary: 'A device assigned twice, to one guest or to two.' },
  'group-split': { severity: 'error', summary: 'Devices of one IOMMU group assigned to different guests.' },
  'group-partly-assigned': {
    severity: 'warning',
    summary: 'Only some devices of an IOMMU group are assigned; the group may not be viable.',
  },
  'msi-window-missing': { severity: 'information', summary: 'An arm64 guest needs a software MSI doorbell window and names none.' },
  'msi-window-conflict': { severity: 'error', summary: "A guest's msi-window overlaps a reserved region." },
  'phys-bits-too-low': { severity: 'error', summary: "A PC guest's RAM and 64-bit PCI hole reach beyond its phys-bits; QEMU exits." },
  // ----- timelines (sim/timeline.ts) -----
  'guest-not-running': {
    severity: 'error',
    summary: 'A step needs a running guest (hotplug, migrate, stop) and the guest is not running.',
  },
  'guest-already-running': { severity: 'error', summary: 'A guest is started twice in one timeline.' },
  'device-not-plugged': { severity: 'error', summary: 'An unplug of a device the guest does not hold.' },
  'migrate-device-missing': { severity: 'error', summary: 'A device the guest holds does not exist on the migration target.' },
  'migrate-doorbell-conflict': {
    severity: 'error',
    summary: "The guest's msi-window is free on the source but reserved on the migration target.",
  },
  'migrate-address-width': { severity: 'error', summary: "The migration target's IOMMU cannot reach the guest's RAM." },
  // ----- TDISP (sim/tdis.ts) -----
  'tdisp-not-capable': { severity: 'error', summary: 'A TDISP message to, or a private assignment of, a device without TDISP.' },
  'tdisp-not-bound': { severity: 'error', summary: 'A TDI locked while no running confidential guest holds its device.' },
  'tdisp-invalid-state': { severity: 'error', summary: 'A TDISP message the TDI does not accept in its state (INVALID_INTERFACE_STATE).' },
  'tdisp-config-locked': { severity: 'error', summary: 'A config-space change a locked TDI does not survive: it goes to ERROR.' },
  'tdisp-bme-quirk': { severity: 'error', summary: 'A Command write with BME=0 after lock on a device that counts it as clearing BME.' },
  'tdisp-vf-reset': { severity: 'error', summary: "A PF reset (FLR or state-losing power change) takes its VFs' locked TDIs to ERROR." },
  'tdisp-power-loss': { severity: 'error', summary: 'A power transition that loses state while the TDI is locked.' },
  'tdisp-link-down': { severity: 'error', summary: 'The link goes down under a locked TDI: its IDE stream is lost.' },
  'tdisp-dma-before-run': {
    severity: 'error',
    summary: 'A private device enabled for DMA, or converted to private, before its TDI is in RUN.',
  },
  'tdisp-avoidable-access': { severity: 'warning', summary: 'A config access a locked TDI does not need (INTx probing on a VF).' },
  // ----- SEV-SNP / SEV-TIO (sim/sev.ts, sim/launch.ts) -----
  'sev-not-confidential': {
    severity: 'error',
    summary: 'Private DMA or SNP_LAUNCH_UPDATE for a guest that is not (SEV-SNP) confidential.',
  },
  'sev-mixed-instance': { severity: 'error', summary: 'One iommufd instance of an SEV-TIO guest serves both private and shared devices.' },
  'sev-dma-window': { severity: 'error', summary: "A device's DMA window on the wrong side of vTOM for its mode." },
  'sev-convert-needs-replug': {
    severity: 'error',
    summary: 'A device realized shared or private is converted; its DTE needs unplug and replug.',
  },
  'sev-launch-private-pinned': {
    severity: 'error',
    summary: 'A device realized private before SNP_LAUNCH_UPDATE: the launch fails with -EEXIST.',
  },
  // ----- firmware DMA at ExitBootServices (sim/pciIo.ts, sim/exitBootServices.ts) -----
  'fw-misplaced-action': { severity: 'error', summary: "An action the handler's owner cannot take (stop-dma in the IOMMU protocol)." },
  'fw-mapping-left': {
    severity: 'error',
    summary: 'A mapping still present after ExitBootServices: its memory stays shared (decrypted) with the host.',
  },
  'fw-pending-bus-master': {
    severity: 'error',
    summary: 'BusMasterRead/Write for DMA still pending after the call returns; it needs CommonBuffer.',
  },
  'fw-teardown-before-stop': { severity: 'error', summary: 'A mapping torn down while its device may still do DMA into it: IOMMU fault.' },
  'fw-dma-after-handler': {
    severity: 'error',
    summary: "A device still doing DMA when its driver's ExitBootServices handler has returned.",
  },
  'fw-double-unmap': { severity: 'error', summary: 'Unmap() of a mapping that is no longer mapped: a stale Mapping handle.' },
  'fw-free-in-handler': { severity: 'error', summary: 'Memory freed inside an ExitBootServices handler: the memory map must not change.' },
  'fw-boot-service-in-handler': { severity: 'error', summary: 'A boot service called from an ExitBootServices handler.' },
  'fw-common-buffer-source': { severity: 'error', summary: 'A CommonBuffer mapping of memory that did not come from AllocateBuffer().' },
  'fw-32bit-above-4g': { severity: 'error', summary: 'A 32-bit DMA operation on a buffer above 4 GiB.' },
  'fw-orders-truncated': {
    severity: 'information',
    summary: 'Too many handler orders to explore them all; the verdicts cover the orders explored.',
  },
  // ----- pools (sim/pools.ts) -----
  'pool-ram-conflict': { severity: 'warning', summary: 'Guest RAM overlaps a reserved region of another host of its pool.' },
  'pool-doorbell-conflict': {
    severity: 'warning',
    summary: "A guest's msi-window overlaps a reserved region of another host of its pool.",
  },
  'pool-address-width': { severity: 'warning', summary: 'Guest RAM beyond the IOMMU address width of another host of its pool.' },
  'pool-checks-truncated': {
    severity: 'information',
    summary: 'Too much work to check every guest against every host of the pool; the guests not checked may have conflicts not reported.',
  },
  // ----- Xen (sim/xen.ts) -----
  'xen-invalid-setting': {
    severity: 'error',
    summary: 'A Xen domain setting Xen does not accept for that kind of domain (HVM dom0, virtual VT-d on PV, ...).',
  },
  'xen-pvh-dom0-not-strict': { severity: 'error', summary: 'A PVH dom0 whose dom0-iommu mode is not strict: Xen panics.' },
  'xen-pv-iommu-on-maintained-map': { severity: 'error', summary: 'A domain drives through PV-IOMMU a map Xen maintains.' },
  'xen-stray-dma-faults': {
    severity: 'warning',
    summary: 'A domain drives its own IOMMU map without scratch-page quarantine: stray DMA faults the host.',
  },
  'xen-stray-dma-hidden': {
    severity: 'information',
    summary: 'A domain drives its own IOMMU map with scratch-page quarantine: stray DMA is silently absorbed.',
  },
  'xen-shared-rmrr': {
    severity: 'error',
    summary: 'A device passed through alone whose RMRR it shares with other devices: Xen refuses (-EPERM).',
  },
  'xen-identity-map-conflict': {
    severity: 'error',
    summary: 'An RMRR identity mapping overlapping another one of the domain with a different range (-EADDRINUSE).',
  },
  'xen-stale-iommu-mapping': {
    severity: 'error',
    summary: 'A balloon or free step on a domain whose IOMMU map Xen does not maintain: stale BFN -> MFN entries.',
  },
  'xen-p2m-outside-memory': {
    severity: 'warning',
    summary: 'A balloon or free step over memory the domain does not own (or gave back already).',
  },
  // ----- SMMUv3 CMDQV (sim/cmdqv.ts) -----
  'cmdqv-missing': { severity: 'error', summary: 'A VINTF on an IOMMU that is not an SMMUv3 with a CMDQV.' },
  'cmdqv-too-many-vintfs': { severity: 'error', summary: 'More VINTFs on one SMMU than its CMDQV has.' },
  'cmdqv-too-many-streams': { severity: 'error', summary: 'More streams in a VINTF than it has SID_MATCH/SID_REPLACE pairs.' },
  'cmdqv-wrong-smmu': { severity: 'error', summary: "A VINTF stream whose device sits behind another physical SMMU than the VINTF's." },
  'cmdqv-wrong-guest': { severity: 'error', summary: 'A vIOMMU backed by a VINTF that belongs to another guest.' },
  'cmdqv-hyp-own-by-guest': { severity: 'error', summary: 'HYP_OWN left set on a guest-owned VINTF.' },
  'cmdqv-unsupported-command': {
    severity: 'error',
    summary: "A command a guest-owned VINTF's queue does not take; it belongs on the emulated main queue.",
  },
  'cmdqv-mixed-batch': { severity: 'error', summary: 'A batch mixing commands the VINTF takes with commands it does not.' },
  'cmdqv-batch-without-sync': { severity: 'error', summary: 'A batch not closed by CMD_SYNC: the guest cannot know it completed.' },
  'cmdqv-unmapped-stream': { severity: 'error', summary: 'A command naming a stream ID no SID_MATCH pair of the VINTF matches.' },
  'cmdqv-stage2-invalidation': { severity: 'error', summary: 'A stage-2 invalidation from a guest whose vSMMU has no stage 2.' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export function isCode(s: string): s is Code {
  return Object.hasOwn(CODES, s);
}

/** Builds a finding with the code's default severity. */
export const finding = findingBuilder(CODES);

/**
 * What a check that threw leaves behind: one `internal-error` at the top of each file it
 * covered (for an engine, `model.comments.keys()`: every file of its model), so the user
 * learns that findings may be missing there, and the other checks' findings still show.
 */
export function internalErrors(uris: Iterable<string>, check: string, err: unknown): Finding[] {
  return [...uris].map((uri) => internalError(uri, check, err));
}

export function internalError(uri: string, check: string, err: unknown): Finding {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const f = finding(
    'internal-error',
    { uri, span: { start: 0, end: 0 } },
    `${check} failed inside IOMMU Lens (${why}); its findings are missing here, the other checks still ran. Please report this with the file.`,
  );
  f.cause = `${check}: ${err instanceof Error ? (err.stack ?? why) : why}`;
  return f;
}
