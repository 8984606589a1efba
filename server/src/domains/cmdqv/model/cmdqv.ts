/** SMMU CMDQV: VINTFs (their IOMMU, guest and streams) and command blocks. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from '../../../model/scope';
import { SMMU_OPCODES } from './smmuCommands';
import type { Guest, Iommu } from '../../../model/types';
import type { CommandsBlock, SmmuBatch, SmmuCmd, Vintf } from './types';

export function declareVintf(ctx: Scope, uri: string, d: A.VintfDecl): void {
  if (!d.name) return;
  const v: Vintf = { sym: ctx.sym('vintf', uri, d.name, d.span), decl: d, streams: [], queues: [] };
  if (ctx.declareGlobal(v.sym, v)) ctx.model.vintfs.set(v.sym.name, v);
  allVintfs(ctx).push(v);
}

/** Every VINTF declaration, duplicates included (their contents are checked too). */
const ALL_VINTFS = {};
export const allVintfs = (ctx: Scope): Vintf[] => ctx.state(ALL_VINTFS, () => []);

/** A guest's `viommu ... via VINTF`: the VINTF accelerating the vIOMMU (the core declared the vIOMMU). */
export function viommuVia(ctx: Scope, uri: string, g: Guest, item: A.GuestItem): void {
  if (item.kind !== 'viommu' || !item.name) return;
  const via = ctx.global(uri, item.via, ['vintf']);
  // The core pushed it last, unless its name was taken.
  const v = g.viommus.at(-1);
  if (v?.stmt === item && via) v.via = via;
}

/** An IOMMU's `cmdqv` statement. CMDQV_PARAM holds LOG2 fields: every count is a power of two (__tegra241_cmdqv_probe). */
export function cmdqvSettings(ctx: Scope, uri: string, iommu: Iommu, s: A.IommuItem): void {
  if (s.kind !== 'cmdqv') return;
  iommu.cmdqv = {
    vintfs: powerOfTwo(ctx, uri, s.vintfs, ctx.count(uri, s.vintfs, 1n, 64n, 'VINTF count'), 'CMDQV_NUM_VINTF_LOG2'),
    sidsPerVintf: powerOfTwo(
      ctx,
      uri,
      s.sidsPerVintf,
      ctx.count(uri, s.sidsPerVintf, 1n, 16n, 'SID pairs per VINTF'),
      'CMDQV_NUM_SID_PER_VM_LOG2',
    ),
    vcmdqs: powerOfTwo(ctx, uri, s.vcmdqs, ctx.count(uri, s.vcmdqs, 1n, 128n, 'VCMDQ count'), 'CMDQV_NUM_VCMDQ_LOG2'),
  };
}

/** A count the hardware reports as `1 << FIELD`: anything else is reported and dropped. */
function powerOfTwo(ctx: Scope, uri: string, lit: A.NumLit | undefined, v: bigint | undefined, field: string): bigint | undefined {
  if (v === undefined || (v & (v - 1n)) === 0n) return v;
  ctx.report('value-out-of-range', uri, lit!.span, `${lit!.text} is not a power of two: the CMDQV reports it as 1 << ${field}`);
  return undefined;
}

/**
 * After guests are declared: the VINTF's guest, its IOMMU there and its streams. A VINTF
 * without `for` is the host kernel's (VINTF0): it names its SMMU as PLATFORM.IOMMU.
 */
export function resolveVintf(ctx: Scope, v: Vintf): void {
  const uri = v.sym.uri;
  const d = v.decl;
  v.guest = ctx.global(uri, d.guest, ['guest']) as Guest | undefined;
  const qualifier = !d.guest && d.iommu?.qualifier ? ctx.model.platforms.get(d.iommu.qualifier.text) : undefined;
  const platform = v.guest?.platform ?? qualifier;
  if (!d.guest && d.iommu && !d.iommu.qualifier)
    ctx.report(
      'unknown-name',
      uri,
      d.iommu.span,
      `which platform's ${d.iommu.name.text}? A VINTF without \`for GUEST\` is the host's and names its SMMU as PLATFORM.IOMMU`,
    );
  v.iommu = ctx.member(uri, d.iommu, platform, ['iommu']) as Iommu | undefined;
  const assigned = new Set(v.guest?.assigns.map((x) => x.device));
  for (const item of d.items) {
    if (item.kind === 'stream') {
      const device = ctx.device(uri, item.device, platform);
      v.streams.push({
        stmt: item,
        device,
        virtualSid: ctx.count(uri, item.virtualSid, 0n, 0xffff_ffffn, 'virtual stream ID'),
        assigned: !!device && assigned.has(device),
      });
    } else if (item.kind === 'vmid') {
      v.vmid = ctx.count(uri, item.value, 0n, 0xffffn, 'VMID');
    } else if (item.kind === 'owner' && item.value) {
      v.owner = item.value.text as Vintf['owner'];
    } else if (item.kind === 'hyp-own' && item.value) {
      v.hypOwn = { on: item.value.text === 'on', stmt: item };
    } else if (item.kind === 'queue') {
      v.queues.push({
        stmt: item,
        index: ctx.count(uri, item.index, 0n, 127n, 'LVCMDQ index'),
        size: ctx.num(uri, item.size),
        base: ctx.num(uri, item.base),
      });
    }
  }
  ctx.singletons(uri, d.items, ['owner', 'vmid', 'hyp-own'], `VINTF ${v.sym.name}`);
}

export function commands(ctx: Scope, uri: string, d: A.CommandsDecl): void {
  const block: CommandsBlock = { uri, decl: d, vintf: ctx.global(uri, d.vintf, ['vintf']) as Vintf | undefined, batches: [] };
  ctx.model.commands.push(block);
  for (const b of d.batches) {
    if (b.kind !== 'batch') continue;
    const batch: SmmuBatch = { decl: b, commands: [] };
    block.batches.push(batch);
    for (const c of b.commands) if (c.kind === 'smmu-command') batch.commands.push(command(ctx, uri, c));
  }
}

/** Word and NumLit have one shape; a number is what starts with a digit. */
const isNumber = (op: A.NumLit | A.Word): boolean => /^[0-9]/.test(op.text);

/** `TLBI_NH_VA asid 3 va 0x1000 leaf`: the opcode and its operands by field name. */
function command(ctx: Scope, uri: string, c: A.SmmuCommand): SmmuCmd {
  const known = Object.hasOwn(SMMU_OPCODES, c.opcode.text);
  const cmd: SmmuCmd = { node: c, opcode: known ? c.opcode.text : undefined, operands: new Map() };
  if (!known) ctx.unknownValue(uri, c.opcode, `unknown SMMUv3 command '${c.opcode.text}'`, () => Object.keys(SMMU_OPCODES));
  const op = known ? SMMU_OPCODES[c.opcode.text]! : undefined;
  const ops = c.operands;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    if (isNumber(o)) {
      // A bare number: the opcode's first field (`CFGI_STE 0x8` is the stream ID), once.
      const field = i === 0 ? op?.fields[0] : undefined;
      const value = ctx.num(uri, o);
      if (field && value !== undefined) cmd.operands.set(field, { value, span: o.span });
      else if (op && !field)
        ctx.report(
          'unknown-value',
          uri,
          o.span,
          `a number here needs a field name before it (${op.fields.join(', ') || `${c.opcode.text} takes no operands`})`,
        );
      continue;
    }
    if (!op) continue;
    if (!op.fields.includes(o.text)) {
      ctx.unknownValue(
        uri,
        o,
        `${c.opcode.text} has no operand '${o.text}'${op.fields.length ? `; it takes ${op.fields.join(', ')}` : ''}`,
        () => op.fields,
      );
      if (ops[i + 1] && isNumber(ops[i + 1]!)) i++; // its value goes with it
      continue;
    }
    if (op.flags?.includes(o.text)) {
      cmd.operands.set(o.text, { value: true, span: o.span });
      continue;
    }
    const next = ops[i + 1];
    if (!next || !isNumber(next)) {
      ctx.report('unknown-value', uri, o.span, `operand '${o.text}' of ${c.opcode.text} needs a value`);
      continue;
    }
    i++;
    const value = ctx.num(uri, next);
    if (value !== undefined) cmd.operands.set(o.text, { value, span: { start: o.span.start, end: next.span.end } });
  }
  return cmd;
}
