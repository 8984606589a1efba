/**
 * The PCI configuration-space vocabulary `config` steps use: the bits of the Command
 * register and of the PCI Express Device Control register, by the names the language
 * accepts, with their reset values (PCI Local Bus 3.0 §6.2.2, PCIe 6.x §7.5.3.4).
 */

/** Command register (offset 0x04) bits, as Linux's PCI_COMMAND_* name them. */
export const COMMAND_BITS: Readonly<Record<string, number>> = {
  IO: 1 << 0, // PCI_COMMAND_IO
  MSE: 1 << 1, // PCI_COMMAND_MEMORY: Memory Space Enable
  BME: 1 << 2, // PCI_COMMAND_MASTER: Bus Master Enable
  SPECIAL: 1 << 3,
  MWI: 1 << 4, // Memory Write and Invalidate
  'VGA-SNOOP': 1 << 5,
  PERR: 1 << 6, // Parity Error Response
  SERR: 1 << 8,
  'FAST-B2B': 1 << 9,
  'INTX-DISABLE': 1 << 10,
};

/** Device Control register (PCIe capability + 0x08) bits; the MPS and MRRS fields are not modelled. */
export const DEVCTL_BITS: Readonly<Record<string, number>> = {
  CERE: 1 << 0, // Correctable Error Reporting Enable
  NFERE: 1 << 1,
  FERE: 1 << 2,
  URRE: 1 << 3,
  RO: 1 << 4, // Enable Relaxed Ordering
  'EXT-TAG': 1 << 8, // Extended Tag Field Enable
  PHANTOM: 1 << 9, // Phantom Functions Enable
  'AUX-PM': 1 << 10,
  'NO-SNOOP': 1 << 11, // Enable No Snoop
  FLR: 1 << 15, // Initiate Function Level Reset
};

/** The Command register after reset: every bit 0. */
export const COMMAND_RESET = 0;
/**
 * The Device Control register after reset: Relaxed Ordering and No Snoop enabled, the rest
 * 0 (Extended Tag's default is implementation-specific; a `devctl` write before the lock
 * states it).
 */
export const DEVCTL_RESET = DEVCTL_BITS.RO! | DEVCTL_BITS['NO-SNOOP']!;

/** Device Control fields a locked TDI must not see changed (RULES §5.3). */
export const DEVCTL_LOCKED_FIELDS = DEVCTL_BITS['EXT-TAG']! | DEVCTL_BITS.PHANTOM! | DEVCTL_BITS['NO-SNOOP']! | DEVCTL_BITS.FLR!;

export type Register = 'command' | 'devctl';

export const REGISTER_BITS: Record<Register, Readonly<Record<string, number>>> = { command: COMMAND_BITS, devctl: DEVCTL_BITS };

/** Names of the bits set in `value`, in bit order. */
export function bitNames(register: Register, value: number): string[] {
  return Object.entries(REGISTER_BITS[register])
    .filter(([, bit]) => (value & bit) !== 0)
    .map(([name]) => name);
}
