/** The documentation of the keywords of Xen hosts and domains, for completion (ide/keywordDocs.ts keeps the core's). */
import type { KeywordDocs } from '../../../ide/contribution';

export const XEN_KEYWORDS: KeywordDocs = {
  enumTitles: {
    xenMode: 'Xen domain type',
    dom0Iommu: 'dom0-iommu option',
    xenMap: 'Xen IOMMU map',
    quarantineMode: 'quarantine mode',
    rdmPolicy: 'RDM policy',
  },
  docs: {
    xen: 'A Xen hypervisor on a host, with dom0 and guest domains (RULES §8). `xen NAME on PLATFORM { ... }`',
    dom0: "Xen's hardware domain: its type, `dom0-iommu=` options and IOMMU map (RULES §8.2).",
    domain: 'A Xen guest domain: its type, passed-through devices, IOMMU map and memory. `domain NAME { ... }`',
    mode: 'The domain type: `pv`, `pvh` or `hvm`.',
    pass: "Devices passed through to the domain, from the `xen` block's platform. `pass DEVICE, ...`",
    'iommu-map':
      "Who keeps the domain's IOMMU map: `host-identity`, `maintained` by Xen, or " +
      'driven by the domain (`pv-iommu`, `virtual-vtd`) (RULES §8.4).',
    quarantine:
      "`iommu=quarantine=` (global): what a de-assigned device's in-flight DMA hits: `off`, `basic` or `scratch-page` (RULES §8.5).",
    'map-reserved': '`dom0-iommu=map-reserved` (on by default): identity-map reserved regions for dom0.',
    'xen-range': 'Memory Xen keeps for itself (image, heap, stubs): never mapped for dom0. `xen-range RANGE`',
    rdm: "xl's `rdm=`: `rdm [strategy host] [policy strict | relaxed]`, the domain's reserved-device-memory handling (RULES §8.7, §8.8).",
    pv: 'A paravirtualised domain.',
    pvh: 'A PVH domain; a PVH dom0 is always strict: Xen ignores `relaxed` and `passthrough` (check_hwdom_reqs).',
    hvm: 'A fully virtualised (HVM) domain.',
    strict: '`dom0-iommu=strict`: dom0 gets only the mappings of its own memory (forced for a PVH dom0; beats `passthrough`).',
    passthrough: "`dom0-iommu=passthrough`: dom0's devices bypass the IOMMU (PV dom0 only).",
    relaxed:
      'The default non-strict dom0 mode: all E820 RAM identity-mapped except the ' +
      "interrupt range, IO-APIC pages, MMCFG and Xen's ranges (RULES §8.2).",
    'host-identity': 'Xen programs an identity map once and leaves it: a host map, not maintained (RULES §8.4).',
    maintained: "Xen keeps the IOMMU map in sync with the domain's P2M (need_sync) (RULES §8.4).",
    'pv-iommu': 'The domain drives its own mappings through PV-IOMMU hypercalls (RULES §8.4).',
    'virtual-vtd': 'An HVM domain drives its mappings through an emulated VT-d (RULES §8.4).',
    basic: '`iommu=quarantine=basic`: a de-assigned device is parked in dom_io without mappings, so its in-flight DMA faults.',
    'scratch-page':
      "`iommu=quarantine=scratch-page`: a de-assigned device's in-flight DMA lands on a scratch page and goes unnoticed (RULES §8.5).",
    'rdm-policy': "xl's per-device `rdm_policy=` (HVM/x86 only): `strict` (the default) or `relaxed` (RULES §8.7, §8.8).",
    strategy:
      "`strategy host`: libxl reserves every host RDM (RMRR) in the guest's memory map, not only those of `pass` devices (for hotplug).",
    policy: "The domain's default `rdm_policy` for its `pass` devices: `strict` or `relaxed`.",
    rmrr: 'An ACPI DMAR RMRR (VT-d firmware): Linux and Xen both honour it.',
    ivmd: 'An ACPI IVRS IVMD (AMD-Vi firmware unity map): Linux and Xen both honour it.',
    'linux-quirk': 'A region only Linux adds (the ISA-bridge 16 MiB floppy quirk): Xen does not know it (RULES §8.8).',
    'iort-rmr': 'An Arm IORT RMR node: Linux honours it, Xen has no IORT RMR support (RULES §8.8).',
  },
  // Where a keyword means something else, keyed `CONTEXT:word` (an enumeration, a rule or a block).
  senses: {
    'dom0IommuStmt:iommu': "Xen's `dom0-iommu=` options: `strict`, `passthrough` or `relaxed` (RULES §8.2).",
    'quarantineMode:off': '`iommu=quarantine=false`: a de-assigned device goes straight back to dom0, with no quarantine domain.',
    'xenVersionStmt:xen':
      "The hypervisor's release, e.g. `xen 4.17`: rules that changed between Xen releases follow it " +
      '(RULES §0.2); without it the newest behaviour the tool knows applies. `xen RELEASE`',
    'xenBody:quarantine':
      "Xen's global `iommu=quarantine=`: what happens to a device de-assigned from " +
      'a domain, `off`, `basic` or `scratch-page` (RULES §8.5).',
    'domainBody:quarantine':
      'Deprecated here: `iommu=quarantine=` is global; write `quarantine` in the `xen` ' +
      'block. It applies only to de-assigned devices (RULES §8.5).',
    'rdmPolicy:strict': 'rdm_policy=strict (the default): a shared RMRR or an RDM conflict refuses the device or the domain.',
    'rdmPolicy:relaxed':
      'rdm_policy=relaxed: Xen assigns anyway ("It\'s risky to assign ..."); the xl.cfg doc: ' +
      '"may cause the VM to crash if a pass-through device accesses RDM".',
    'rdmStmt:host': 'strategy=host: every host RDM is reserved in the guest map (xl.cfg: "useful when doing hotplug").',
    'domainBody:ram': "The domain's memory, which `balloon` and `free` steps change (RULES §8.5). `ram NAME RANGE`",
  },
};
