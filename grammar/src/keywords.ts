/**
 * The keywords of the .iommu language. Keywords are contextual: the lexer reads every
 * word as a `Word` and then retypes the ones listed here, and each keyword token is also
 * a `Word` (a token category), so a user may still call a device `msi` or a guest `start`.
 * One table keeps the parser, the TextMate grammar test and (later) completion in step.
 */

/** Words that open a top-level declaration. */
export const DECLARATION_KEYWORDS = ['platform', 'guest', 'timeline', 'pool', 'firmware', 'xen', 'vintf', 'commands'] as const;

/** Words that open a statement inside a block, or a timeline step. */
export const STATEMENT_KEYWORDS = [
  // platform and iommu
  'arch',
  'kernel',
  'iommu',
  'ram',
  'reserved',
  'device',
  'address-width',
  'msi',
  'cmdqv',
  'page-sizes',
  'ioapic',
  'mmcfg',
  // device
  'bdf',
  'group',
  'tdisp',
  'quirk',
  'vf-of',
  'class',
  // guest
  'assign',
  'machine',
  'msi-window',
  'confidential',
  'viommu',
  'container',
  'vtom',
  // timeline steps
  'start',
  'stop',
  'migrate',
  'hotplug',
  'unplug',
  'config',
  'launch-update',
  'convert',
  'power',
  'link',
  'balloon',
  'free',
  // firmware
  'driver',
  'map',
  'on',
  'iommu-protocol',
  'stop-dma',
  'unmap',
  'unmap-all',
  'signal',
  'call',
  // xen
  'dom0',
  'domain',
  'mode',
  'pass',
  'iommu-map',
  'quarantine',
  'map-reserved',
  'xen-range',
  'rdm',
  // cmdqv
  'owner',
  'stream',
  'vmid',
  'hyp-own',
  'queue',
  'batch',
] as const;

/** Words that only appear after another keyword: connectives and enumerated values. */
export const VALUE_KEYWORDS = [
  // connectives
  'size',
  'for',
  'to',
  'into',
  'from',
  'as',
  'via',
  'at',
  'tpl',
  'event',
  // arch
  'x86_64',
  'arm64',
  // iommu kinds
  'vt-d',
  'amd-vi',
  'smmuv3',
  'virtio-iommu',
  // msi handling, cmdqv
  'remapped',
  'bypass',
  'vintfs',
  'sids-per-vintf',
  'vcmdqs',
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
  // confidential computing, containers, vIOMMU
  'sev-snp',
  'tdx',
  'type1',
  'iommufd',
  'stage2',
  // TDISP messages (`start` and `stop` are listed above)
  'lock',
  'report',
  'bind-p2p',
  'unbind-p2p',
  'set-mmio-attr',
  // config-space writes
  'command',
  'bar',
  'flr',
  'msix',
  'devctl',
  'bist',
  'rom',
  'resizable-bar',
  'ari',
  'pasid',
  'sriov',
  'page-request',
  'multicast',
  'intx',
  // power and link
  'D0',
  'D1',
  'D2',
  'D3hot',
  'D3cold',
  'up',
  'down',
  // firmware DMA
  'bus-master-read',
  'bus-master-write',
  'common-buffer',
  'bus-master-read64',
  'bus-master-write64',
  'common-buffer64',
  'pending',
  'completed',
  'allocate-buffer',
  'allocate-pool',
  'allocate-pages',
  'exit-boot-services',
  'notify',
  'callback',
  'deferred',
  // xen
  'pv',
  'pvh',
  'hvm',
  'strict',
  'passthrough',
  'relaxed',
  'off',
  'host-identity',
  'maintained',
  'pv-iommu',
  'virtual-vtd',
  'basic',
  'scratch-page',
  'rdm-policy',
  'strategy',
  'policy',
  // where a reserved region comes from
  'rmrr',
  'ivmd',
  'linux-quirk',
  'iort-rmr',
  // cmdqv owners
  'host',
] as const;

export const ALL_KEYWORDS: readonly string[] = [...new Set<string>([...DECLARATION_KEYWORDS, ...STATEMENT_KEYWORDS, ...VALUE_KEYWORDS])];
