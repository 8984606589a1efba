/** Completion for the SMMU CMDQV: VINTFs, SMMUv3s, the devices behind one, SMMU opcodes and their fields. */
import {
  blockOf,
  devices,
  doc,
  globals,
  guestNamed,
  guests,
  iommus,
  iommuItem,
  wordAfter,
  type Candidate,
  type Ctx,
} from '../../../ide/completion';
import { GUEST_VCMDQ_COMMANDS, SMMU_OPCODES } from '../model/smmuCommands';
import { SMMU_FIELD_DOCS } from './smmuFields';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

const vintfs = (c: Ctx) =>
  globals(c, c.a.model.vintfs.values(), (v) => ({
    label: v.sym.name,
    kind: 'vintf' as const,
    detail: `VINTF${v.iommu ? ` on ${v.iommu.sym.name}` : ''}${v.guest ? ` for guest ${v.guest.sym.name}` : ''}`,
    documentation: doc(c, v.sym, [v.owner ? `Owned by the ${v.owner}.` : undefined, v.vmid !== undefined ? `VMID ${v.vmid}.` : undefined]),
  }));

/** `vintf V on I`: the SMMUv3s of every platform (the guest comes later on the line), those with a CMDQV first. */
function smmus(c: Ctx): Candidate[] {
  if (c.slot.qualifier) return iommus(c, []);
  const all = [...c.a.model.platforms.values()].flatMap((p) => [...p.iommus.values()]).filter((i) => i.kind === 'smmuv3');
  return all
    .sort((x, y) => Number(y.cmdqv !== undefined) - Number(x.cmdqv !== undefined) || x.sym.name.localeCompare(y.sym.name))
    .map((i) => iommuItem(c, i, i.sym.name));
}

/** After an opcode: its fields not given yet; none right after a field that wants its value. */
function smmuOperands(c: Ctx): Candidate[] {
  const [opcode, ...operands] = c.assist.statement;
  const op = opcode !== undefined && Object.hasOwn(SMMU_OPCODES, opcode) ? SMMU_OPCODES[opcode] : undefined;
  if (!op) return [];
  const flags = new Set(op.flags ?? []);
  const last = operands[operands.length - 1];
  if (last !== undefined && op.fields.includes(last) && !flags.has(last)) return [];
  const used = new Set(operands);
  // A bare number first is the first field (`CFGI_STE 0x8` is the stream).
  if (operands[0] !== undefined && /^[0-9]/.test(operands[0]) && op.fields[0]) used.add(op.fields[0]);
  return op.fields
    .filter((f) => !used.has(f))
    .map((f) => ({
      label: f,
      kind: 'operand' as const,
      detail: flags.has(f) ? `${opcode} flag` : `${opcode} field: ${f} VALUE`,
      ...(SMMU_FIELD_DOCS[f] ? { documentation: SMMU_FIELD_DOCS[f] } : {}),
    }));
}

export const CMDQV_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'vintfDecl/ref0': (c) => smmus(c),
  'vintfDecl/ref2': guests,
  'commandsDecl/ref0': vintfs,
  'viommuStmt/ref0': vintfs,
  'streamStmt/ref0': (c) => {
    const words = blockOf(c, 'vintfBody')?.words;
    const g = guestNamed(c, wordAfter(words, 'for'));
    if (!g?.platform) return [];
    const smmu = wordAfter(words, 'on');
    const behind = new Set([...g.platform.devices.values()].filter((d) => d.iommu?.sym.name === smmu).map((d) => d.sym.name));
    return devices(c, [g.platform], behind);
  },
  'smmuCommand/opcode': () =>
    Object.entries(SMMU_OPCODES).map(([label, op]) => ({
      label,
      kind: 'opcode' as const,
      detail: `SMMUv3 command 0x${op.code.toString(16).padStart(2, '0')}${op.fields.length ? `: ${op.fields.join(' ')}` : ''}`,
      documentation: `${op.what[0]!.toUpperCase()}${op.what.slice(1)}.\n\n${
        GUEST_VCMDQ_COMMANDS.has(label)
          ? "A guest-owned VINTF's queues accept it."
          : "A guest-owned VINTF's queues do not accept it: it belongs on the emulated main queue (RULES §9.2)."
      }`,
    })),
  'smmuCommand/operand': (c) => smmuOperands(c),
};
