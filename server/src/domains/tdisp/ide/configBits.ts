/** The TDISP domain's vocabulary: register bits of `config` steps, for completion. */

/** Command and Device Control register bits, as `config D command|devctl BITS` names them. */
export const CONFIG_BIT_DOCS: Readonly<Record<'command' | 'devctl', Readonly<Record<string, string>>>> = {
  command: {
    IO: 'I/O Space Enable.',
    MSE: 'Memory Space Enable: clearing it takes a locked TDI to ERROR (RULES §5.3).',
    BME: 'Bus Master Enable: clearing it takes a locked TDI to ERROR (RULES §5.3).',
    SPECIAL: 'Special Cycles.',
    MWI: 'Memory Write and Invalidate.',
    'VGA-SNOOP': 'VGA Palette Snoop.',
    PERR: 'Parity Error Response.',
    SERR: 'SERR# Enable.',
    'FAST-B2B': 'Fast Back-to-Back Enable.',
    'INTX-DISABLE': 'Interrupt Disable (INTx).',
  },
  devctl: {
    CERE: 'Correctable Error Reporting Enable.',
    NFERE: 'Non-Fatal Error Reporting Enable.',
    FERE: 'Fatal Error Reporting Enable.',
    URRE: 'Unsupported Request Reporting Enable.',
    RO: 'Enable Relaxed Ordering (set at reset).',
    'EXT-TAG': 'Extended Tag Field Enable: changing it takes a locked TDI to ERROR (RULES §5.3).',
    PHANTOM: 'Phantom Functions Enable: changing it takes a locked TDI to ERROR (RULES §5.3).',
    'AUX-PM': 'Aux Power PM Enable.',
    'NO-SNOOP': 'Enable No Snoop (set at reset): changing it takes a locked TDI to ERROR (RULES §5.3).',
    FLR: 'Initiate Function Level Reset: setting it takes a locked TDI to ERROR (RULES §5.3).',
  },
};
