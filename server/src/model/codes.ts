/**
 * The core's finding codes (syntax, numbers, names, VFIO and guest RAM), with their default
 * severities and one-line summaries. Each domain keeps its own codes beside the code that
 * raises them (server/src/domains/<domain>/codes.ts); the registry (server/src/domains/index.ts)
 * assembles the whole list with `codeTable`. Codes are stable: tests, settings and
 * docs/diagnostics.md refer to them (a test checks that every code has its entry there).
 */
import { findingBuilder, type CodeInfo, type CodeTable, type Finding } from './findings';

export type { CodeInfo, CodeTable } from './findings';

export const CORE_CODES = {
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
  // ----- VFIO containers and guest RAM (sim/vfio.ts, sim/realize.ts) -----
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
} as const satisfies Record<string, CodeInfo>;

/** A code of the core's own table. */
export type Code = keyof typeof CORE_CODES;

/** Builds a finding of a core code with the code's default severity. */
export const finding = findingBuilder(CORE_CODES);

/**
 * One table from several, in the order given. A code in two tables is a programming error
 * (two domains claiming one code): it throws when the registry loads, so every test fails.
 */
export function codeTable(...tables: readonly CodeTable[]): CodeTable {
  const all: Record<string, CodeInfo> = {};
  for (const t of tables) {
    for (const [code, info] of Object.entries(t)) {
      if (Object.hasOwn(all, code)) throw new Error(`finding code '${code}' is registered twice`);
      all[code] = info;
    }
  }
  return all;
}

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
