/**
 * The keywords of the .iommu language. Keywords are contextual: the lexer reads every
 * word as a `Word` and then retypes the ones listed here, and each keyword token is also
 * a `Word` (a token category), so a user may still call a device `msi` or a guest `start`.
 * The core's words are here, each domain's in its file under `domains/`; one table keeps
 * the parser, the TextMate grammar test and completion in step. A word two parts of the
 * language share is the core's.
 */
import { GRAMMAR_DOMAINS } from './domains';

const CORE_KEYWORDS = {
  declarations: ['platform', 'guest'],
  statements: [
    // platform and iommu
    'arch',
    'kernel',
    'iommu',
    'ram',
    'reserved',
    'device',
    'address-width',
    'msi',
    'ht-range-ignore',
    'dma-entry-limit',
    'page-sizes',
    'ioapic',
    'mmcfg',
    // device
    'bdf',
    'group',
    'quirk',
    'vf-of',
    'class',
    // guest
    'assign',
    'machine',
    'msi-window',
    'viommu',
    'container',
    'iommufd',
    // shared by the domains: timeline steps that are TDISP messages too, a Xen step that is
    // a firmware action too, a firmware handler's `on`, a device's and a VINTF's `stream`
    'start',
    'stop',
    'free',
    'on',
    'stream',
  ],
  values: [
    // connectives
    'size',
    'for',
    'to',
    'from',
    'as',
    'via',
    'at',
    // arch
    'x86_64',
    'arm64',
    // iommu kinds
    'vt-d',
    'amd-vi',
    'smmuv3',
    'virtio-iommu',
    // msi handling
    'remapped',
    'bypass',
    // reserved-region types (Linux enum iommu_resv_type; `msi` is listed above)
    'direct',
    'direct-relaxable',
    'sw-msi',
    // assignment modes
    'shared',
    'private',
    'bind-capable',
    'dma-window',
    // machines
    'q35',
    'i440fx',
    'virt',
    'memory',
    'cpu',
    'amd',
    'intel',
    'phys-bits',
    'max-ram-below-4g',
    'pci-hole64-size',
    'version',
    'cpu-model',
    'accel',
    'kvm',
    'tcg',
    'maxmem',
    'slots',
    'highmem',
    'host-phys-bits',
    // containers, vIOMMU
    'type1',
    'iommufd',
    'stage2',
    // on/off, an owner
    'off',
    'host',
    // where a reserved region comes from
    'rmrr',
    'ivmd',
    'linux-quirk',
    'iort-rmr',
  ],
} as const;

const PARTS = [CORE_KEYWORDS, ...GRAMMAR_DOMAINS.map((d) => d.keywords)];

/** Words that open a top-level declaration. */
export const DECLARATION_KEYWORDS: readonly string[] = PARTS.flatMap((k) => k.declarations ?? []);

/** Words that open a statement inside a block, or a timeline step. */
export const STATEMENT_KEYWORDS: readonly string[] = PARTS.flatMap((k) => k.statements ?? []);

/** Words that only appear after another keyword: connectives and enumerated values. */
export const VALUE_KEYWORDS: readonly string[] = PARTS.flatMap((k) => k.values ?? []);

export const ALL_KEYWORDS: readonly string[] = [...new Set<string>([...DECLARATION_KEYWORDS, ...STATEMENT_KEYWORDS, ...VALUE_KEYWORDS])];
