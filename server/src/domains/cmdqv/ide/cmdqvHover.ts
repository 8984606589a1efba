/**
 * Hovers for SMMU CMDQV: a command of a `commands` block (which queue takes it, the VMID
 * and stream ID the hardware substitutes) and a VINTF (its SID_MATCH / SID_REPLACE pairs).
 */
import { hex } from '../../../model';
import type { Vintf } from '../model/types';
import { SMMU_OPCODES } from '../model/smmuCommands';
import type { CommandRoute } from '../sim/cmdqv';
import type { Analysis } from '../../../ide/analysis';
import { inside } from '../../../ide/positions';
import { resultOf } from '../../../sim';
import { CMDQV_ENGINE } from '../engine';

export function commandAt(a: Analysis, uri: string, offset: number): CommandRoute | undefined {
  for (const block of a.model.commands) {
    if (block.uri !== uri || !inside(block.decl.span, offset)) continue;
    for (const b of block.batches)
      for (const c of b.commands) if (inside(c.node.span, offset)) return resultOf(a.sim, CMDQV_ENGINE).routes.get(c.node);
  }
  return undefined;
}

export function commandHover(r: CommandRoute): string {
  const c = r.cmd;
  const op = c.opcode ? SMMU_OPCODES[c.opcode] : undefined;
  const out = [
    `**${c.node.opcode.text}**${op ? ` (opcode ${hex(BigInt(op.code))}): ${op.what}` : ': not an SMMUv3 command the simulator knows'}`,
  ];
  const s = r.state;
  if (!s) return out.join('\n');
  const v = s.vintf;
  const smmu = v.iommu?.sym.name ?? 'its SMMU';
  out.push(
    '',
    r.accepted
      ? `**Queue:** ${v.sym.name}'s VCMDQ on ${smmu}; the hardware executes it without a ` +
          `trap${s.hypOwn ? ' (HYP_OWN = 1: the queue takes every command)' : ' (HYP_OWN = 0: the restricted set has it)'}.`
      : `**Queue:** not ${v.sym.name}'s VCMDQ: a HYP_OWN = 0 queue does not take ${c.opcode}. ` +
          "It belongs on the vSMMU's emulated main queue, which the VMM traps.",
  );
  const wrote = c.operands.get('vmid');
  if (v.vmid !== undefined)
    out.push(
      '',
      `**VMID:** the hardware substitutes ${v.sym.name}'s ` +
        `VMID ${v.vmid}${wrote && wrote.value !== true ? ` for the ${wrote.value} the guest wrote` : ''}.`,
    );
  else out.push('', `**VMID:** ${v.sym.name} has no \`vmid\`: the host programs one, and it replaces whatever the guest writes.`);
  if (r.stream && !v.guest)
    out.push('', `**Stream:** ${hex(r.stream.virtual)} is a physical stream ID: the host's VINTF0 matches no SID pair.`);
  else if (r.stream) {
    const p = r.stream.pair;
    const dev = p?.stream.device;
    out.push(
      '',
      p
        ? `**Stream:** vSID ${hex(r.stream.virtual)} matches pair ${p.index + 1} of ${s.pairs}: ` +
            `SID_REPLACE ${dev?.stream !== undefined ? hex(dev.stream) : '?'} (${dev?.sym.name ?? '?'}).`
        : `**Stream:** vSID ${hex(r.stream.virtual)} matches no SID_MATCH pair of ${v.sym.name}: an illegal command.`,
    );
  }
  return out.join('\n');
}

export function vintfHover(a: Analysis, v: Vintf): string {
  const s = resultOf(a.sim, CMDQV_ENGINE).vintfs.get(v);
  const out = [`**VINTF ${v.sym.name}**${v.iommu ? ` on ${v.iommu.sym.name}` : ''}${v.guest ? ` for ${v.guest.sym.name}` : ''}`];
  if (!s) return out.join('\n');
  out.push(
    '',
    `${
      s.hypOwn
        ? `HYP_OWN = 1${v.guest ? '' : " (the host kernel's VINTF0, physical stream IDs)"}: its queues take every command`
        : 'HYP_OWN = 0 (as the kernel programs every VINTF it gives user space): its ' +
          'queues take TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC only'
    }. VMID ${v.vmid ?? 'set by the host'}; vSMMU stage 2: ${s.stage2 ? 'yes' : 'no (IDR0.S2P = 0)'}.`,
  );
  out.push(
    '',
    `SID pairs (${s.bySid.size} of ${s.pairs} used):`,
    ...[...s.bySid].map(
      ([vsid, p]) =>
        `- ${p.index + 1}: SID_MATCH ${hex(vsid)} → SID_REPLACE ` +
        `${p.stream.device?.stream !== undefined ? hex(p.stream.device.stream) : '?'} (${p.stream.device?.sym.name ?? '?'})`,
    ),
  );
  return out.join('\n');
}
