/**
 * The documentation of the keywords of TDISP messages, config registers, power and link, for
 * completion (ide/keywordDocs.ts keeps the core's).
 */
import type { KeywordDocs } from '../../../ide/contribution';

export const TDISP_KEYWORDS: KeywordDocs = {
  enumTitles: { tdispMessage: 'TDISP message', configSimple: 'config-space write', powerState: 'PCI power state', linkState: 'link state' },
  docs: {
    tdisp: 'The function supports PCIe TDISP: a TDI the TSM can lock and start for a confidential VM (RULES §5).',
    quirk: 'Known device misbehaviours the simulator models, e.g. `bme-zero-write-clears` (RULES §5.5).',
    config:
      'One write to the configuration space of a device: `config DEVICE command ' +
      'BITS | devctl BITS | bar N [VALUE] | flr | ...` (RULES §5.3).',
    power:
      'A power-state change of a device; D3hot and D3cold lose its state and take a ' +
      'locked TDI to ERROR. `power DEVICE D0 | D1 | D2 | D3hot | D3cold`',
    link: 'The PCIe link of a device goes up or down; down tears down the IDE stream of every function behind it. `link DEVICE up | down`',
    lock: 'LOCK_INTERFACE_REQUEST (0x83): CONFIG_UNLOCKED → CONFIG_LOCKED; needs the device in a running confidential guest.',
    report: 'GET_DEVICE_INTERFACE_REPORT (0x84): accepted in CONFIG_LOCKED and RUN, state unchanged.',
    'bind-p2p': 'BIND_P2P_STREAM_REQUEST (0x88): accepted in RUN, state unchanged.',
    'unbind-p2p': 'UNBIND_P2P_STREAM_REQUEST (0x89): accepted in RUN, state unchanged.',
    'set-mmio-attr': 'SET_MMIO_ATTRIBUTE_REQUEST (0x8a): accepted in RUN, state unchanged.',
    command:
      'One write of the Command register: the bits listed are set, all others written as 0. ' +
      'Clearing MSE or BME of a locked TDI takes it to ERROR (RULES §5.3).',
    bar: 'A write of BAR N (0 to 5), with the value if it matters; a locked TDI goes to ERROR.',
    flr: "A Function Level Reset: a locked TDI goes to ERROR, and a PF's reset reaches its VFs (RULES §5.3).",
    msix: 'A write to the MSI-X table: a locked TDI goes to ERROR (RULES §5.3).',
    devctl:
      'One write of the PCIe Device Control register; changing EXT-TAG, PHANTOM or ' +
      'NO-SNOOP, or setting FLR, takes a locked TDI to ERROR (RULES §5.3).',
    bist: 'A write of the BIST register: a locked TDI goes to ERROR (RULES §5.3).',
    rom: 'A write of the Expansion ROM base: a locked TDI goes to ERROR (RULES §5.3).',
    'resizable-bar': 'A write to the Resizable BAR capability: a locked TDI goes to ERROR (RULES §5.3).',
    ari: 'A write to the ARI capability: a locked TDI goes to ERROR (RULES §5.3).',
    pasid: 'A write to the PASID capability: a locked TDI goes to ERROR (RULES §5.3).',
    sriov:
      'A write to the SR-IOV capability: a locked TDI goes to ERROR (RULES §5.3). `sriov vf-enable off`, ' +
      "`vf-mse off` or `numvfs N` also take the PF's VFs' locked TDIs to ERROR (RULES §5.6).",
    'vf-enable': "`config PF sriov vf-enable off`: clears VF Enable in the PF's SR-IOV capability, which destroys its VFs (RULES §5.6).",
    'vf-mse': "`config PF sriov vf-mse off`: clears VF MSE in the PF's SR-IOV capability, disabling every VF's memory space (RULES §5.6).",
    numvfs:
      "`config PF sriov numvfs N`: changes NumVFs in the PF's SR-IOV capability (only with VF Enable clear): " +
      'the VFs go away (RULES §5.6).',
    'page-request': 'A write to the Page Request capability: a locked TDI goes to ERROR (RULES §5.3).',
    multicast: 'A write to the Multicast capability: a locked TDI goes to ERROR (RULES §5.3).',
    intx:
      "Linux's INTx-masking probe (pci_intx_mask_supported()): harmless alone, but on a " +
      'VF (no INTx) an avoidable access to a locked TDI (RULES §5.5).',
    up: 'The PCIe link comes up.',
    down: 'The PCIe link goes down: the IDE stream is torn down and every locked TDI behind the link goes to ERROR.',
  },
  // Where a keyword means something else, keyed `CONTEXT:word` (an enumeration, a rule or a block).
  senses: {
    'tdispMessage:start': 'START_INTERFACE_REQUEST (0x86): CONFIG_LOCKED → RUN.',
    'tdispMessage:stop': 'STOP_INTERFACE_REQUEST (0x87): accepted in every state → CONFIG_UNLOCKED.',
    'tdispStep:tdisp': "The TSM sends a TDISP message to the device's TDI (RULES §5.2). `tdisp DEVICE lock | start | stop | report | ...`",
  },
};
