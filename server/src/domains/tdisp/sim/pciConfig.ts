/**
 * What a `config` step writes into a function's configuration space, and which writes a
 * locked TDI does not survive (RULES §5.3, §5.5). Pure functions over the two registers the
 * language tracks (Command and Device Control); the other writes are single events.
 */
import {
  bitNames,
  COMMAND_BITS,
  COMMAND_RESET,
  DEVCTL_BITS,
  DEVCTL_LOCKED_FIELDS,
  DEVCTL_RESET,
  type Register,
} from '../model/pciRegisters';

export interface ConfigRegs {
  command: number;
  devctl: number;
}

export const RESET_REGS: ConfigRegs = { command: COMMAND_RESET, devctl: DEVCTL_RESET };

const MSE = COMMAND_BITS.MSE!;
const BME = COMMAND_BITS.BME!;
const INTX_DISABLE = COMMAND_BITS['INTX-DISABLE']!;

const BME_QUIRK = 'bme-zero-write-clears';

/** An SR-IOV write that takes a PF's VFs away (VF Enable cleared, NumVFs changed) or their memory space (VF MSE cleared). */
export type VfsWrite = 'vf-enable' | 'numvfs' | 'vf-mse';

/** One `config` step: a register write with its value, a BAR write, an SR-IOV write, or a single-word write. */
export type ConfigWrite =
  | { what: Register; value: number }
  | { what: 'bar'; index?: bigint }
  | { what: 'sriov'; vfs?: VfsWrite }
  | { what: 'flr' | 'msix' | 'bist' | 'rom' | 'resizable-bar' | 'ari' | 'pasid' | 'page-request' | 'multicast' | 'intx' };

/** Why a locked TDI goes to ERROR, and the rule that says so. */
export interface Violation {
  what: string;
  rule: string;
}

const CAPABILITY: Record<string, string> = {
  msix: 'this write changes the locked MSI-X table',
  bist: 'this write starts a BIST',
  rom: 'this write changes the Expansion ROM base address',
  'resizable-bar': 'this write changes the Resizable BAR capability',
  ari: 'this write changes the ARI capability',
  pasid: 'this write changes the PASID capability',
  sriov: 'this write changes the SR-IOV capability',
  'page-request': 'this write changes the Page Request capability',
  multicast: 'this write changes the Multicast capability',
};

export function formatRegister(register: Register, value: number): string {
  const names = bitNames(register, value);
  return `0x${value.toString(16).padStart(4, '0')} (${names.length ? names.join('|') : 'no bits set'})`;
}

/** What an SR-IOV write does to the PF's VFs, for a message (RULES §5.6; PCIe Base, SR-IOV Control and NumVFs). */
export const VFS_WRITE: Readonly<Record<VfsWrite, string>> = {
  'vf-enable': 'clearing VF Enable in the SR-IOV capability of PF {pf} destroys its VFs',
  numvfs: 'changing NumVFs in the SR-IOV capability of PF {pf} (possible only with VF Enable clear) destroys its VFs',
  'vf-mse': 'clearing VF MSE in the SR-IOV capability of PF {pf} disables the memory space of all its VFs',
};

/**
 * A Command write as a VF's register keeps it: VFs do not implement Memory Space Enable
 * (Linux `no_command_memory` for every VF; vfio: "SR-IOV VF memory enable is handled by the
 * MSE bit in the PF SR-IOV capability"), so it reads 0 whatever is written.
 */
export function vfCommand(value: number): number {
  return value & ~MSE;
}

/** Is this write a Function Level Reset (`config D flr`, or Device Control with Initiate FLR)? */
export function isFlr(w: ConfigWrite): boolean {
  return w.what === 'flr' || (w.what === 'devctl' && (w.value & DEVCTL_BITS.FLR!) !== 0);
}

/** The Command value a write leaves; `intx` is Linux's INTx-masking probe, which restores the register. */
export function commandWritten(w: ConfigWrite, regs: ConfigRegs): number | undefined {
  if (w.what === 'command') return w.value;
  if (w.what === 'intx') return regs.command ^ INTX_DISABLE;
  return undefined;
}

/**
 * What the write does to a locked TDI: a violation that takes it to ERROR (the write itself
 * still completes), or nothing. `regs` is the function's state before the write.
 */
export function lockedViolation(w: ConfigWrite, regs: ConfigRegs, quirks: readonly string[]): Violation | undefined {
  const command = commandWritten(w, regs);
  if (command !== undefined) {
    const cleared = regs.command & ~command;
    const before = formatRegister('command', regs.command);
    const after = formatRegister('command', command);
    const write = w.what === 'intx' ? "the INTx probe's Command write" : 'this Command write';
    if (cleared & MSE) return { what: `${write} clears Memory Space Enable (${before} written as ${after})`, rule: '5.3' };
    if (cleared & BME) return { what: `${write} clears Bus Master Enable (${before} written as ${after})`, rule: '5.3' };
    if (!(command & BME) && quirks.includes(BME_QUIRK)) {
      return {
        what:
          `${write}, ${after}, has BME=0, which this device (quirk ${BME_QUIRK}) ` +
          'counts as clearing Bus Master Enable although BME is already 0',
        rule: '5.5',
      };
    }
    return undefined;
  }
  switch (w.what) {
    case 'devctl': {
      if (w.value & DEVCTL_BITS.FLR!) return { what: 'this Device Control write initiates a Function Level Reset (bit 15)', rule: '5.3' };
      const changed = (regs.devctl ^ w.value) & DEVCTL_LOCKED_FIELDS;
      if (!changed) return undefined;
      return {
        what:
          `this write changes ${bitNames('devctl', changed).join(', ')} in Device Control ` +
          `(${formatRegister('devctl', regs.devctl)} written as ${formatRegister('devctl', w.value)})`,
        rule: '5.3',
      };
    }
    case 'bar':
      return { what: `this write changes BAR ${w.index ?? '?'}`, rule: '5.3' };
    case 'flr':
      return { what: 'this Function Level Reset resets the function', rule: '5.3' };
    default:
      return { what: CAPABILITY[w.what]!, rule: '5.3' };
  }
}

/** The registers after the write (an FLR resets them). */
export function afterWrite(w: ConfigWrite, regs: ConfigRegs): ConfigRegs {
  if (isFlr(w)) return RESET_REGS;
  if (w.what === 'command') return { ...regs, command: w.value };
  if (w.what === 'devctl') return { ...regs, devctl: w.value };
  return regs; // intx restores the Command register; the rest are not tracked
}

/** Power states whose entry loses the function's state (D3hot with No_Soft_Reset clear, D3cold). */
export function losesState(state: string): boolean {
  return state === 'D3hot' || state === 'D3cold';
}
