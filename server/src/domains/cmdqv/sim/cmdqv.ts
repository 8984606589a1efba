/**
 * NVIDIA Tegra241 CMDQV on SMMUv3 (RULES §9, drivers/iommu/arm/arm-smmu-v3/tegra241-cmdqv.c).
 * A VINTF gives a guest its own command queues (VCMDQs): the hardware substitutes the
 * VINTF's VMID in every command and translates stream IDs through the VINTF's
 * SID_MATCH / SID_REPLACE pairs. A guest-owned VINTF takes only TLBI_NH_ASID, TLBI_NH_VA,
 * ATC_INV and CMD_SYNC; everything else belongs on the vSMMU's emulated main queue.
 *
 * A `commands V` block is what a guest wrote to V's VCMDQ, batch by batch: each command
 * is checked against what that queue takes, and its route is kept for hover.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { hex } from '../../../model/interval';
import { replace } from '../../../model/scope';
import { GUEST_VCMDQ_COMMANDS, SMMU_OPCODES, STAGE2_COMMANDS } from '../model/smmuCommands';
import type { CommandsBlock, Guest, Iommu, Model, SmmuCmd, Vintf, VintfStream } from '../../../model/types';

/** VINTFs named as related locations when too many share an SMMU. */
const RELATED_VINTFS = 4;

/** The hardware has room for 16 SID pairs per VINTF (RULES §9.3). */
export const MAX_SID_PAIRS = 16n;

/** A VINTF as the simulator sees it: who owns it and the pairs that fit. */
export interface VintfState {
  vintf: Vintf;
  guestOwned: boolean;
  /** Usable pairs: `1 << CMDQV_NUM_SID_PER_VM_LOG2` (the IOMMU's `sids-per-vintf`). */
  pairs: bigint;
  /** The streams that got a pair, by virtual stream ID. */
  bySid: Map<bigint, { stream: VintfStream; index: number }>;
  /** Whether the guest's vSMMU backed by this VINTF advertises stage 2 (IDR0.S2P). */
  stage2: boolean;
}

/** Where one command of a `commands` block goes and what the hardware makes of it. */
export interface CommandRoute {
  cmd: SmmuCmd;
  state?: VintfState;
  /** The VCMDQ takes it (a host-owned VINTF takes everything). */
  accepted: boolean;
  /** The stream the command names, translated (or not) through the VINTF's pairs. */
  stream?: { virtual: bigint; pair?: { stream: VintfStream; index: number } };
}

export interface CmdqvSimulation {
  vintfs: Map<Vintf, VintfState>;
  routes: Map<A.SmmuCommand, CommandRoute>;
}

export function runCmdqv(model: Model, out: Finding[]): CmdqvSimulation {
  const vintfs = new Map<Vintf, VintfState>();
  const perIommu = new Map<Iommu, Vintf[]>();
  for (const v of model.vintfs.values()) {
    vintfs.set(v, vintfState(v, out));
    if (!v.iommu) continue;
    const list = perIommu.get(v.iommu);
    if (list) list.push(v);
    else perIommu.set(v.iommu, [v]);
  }
  for (const [iommu, list] of perIommu) {
    const max = iommu.cmdqv?.vintfs;
    if (max === undefined) continue;
    // The first VINTFs, which get the hardware's, as related locations: a few (thousands
    // declared on one SMMU would repeat them all per finding).
    const holders = list
      .slice(0, Math.min(Number(max), RELATED_VINTFS))
      .map((w) => ({ uri: w.sym.uri, span: w.sym.nameSpan, message: `VINTF ${w.sym.name}` }));
    for (const v of list.slice(Number(max))) {
      out.push(
        finding(
          'cmdqv-too-many-vintfs',
          { uri: v.sym.uri, span: v.sym.nameSpan },
          `${iommu.sym.name}'s CMDQV has ${max} VINTF${max === 1n ? '' : 's'} and ${list.length} are declared on it: ${v.sym.name} gets none`,
          { related: holders },
        ),
      );
    }
  }
  for (const g of model.guests.values()) checkViommus(g, out);
  const routes = new Map<A.SmmuCommand, CommandRoute>();
  for (const block of model.commands) runBlock(block, block.vintf ? vintfs.get(block.vintf) : undefined, routes, out);
  return { vintfs, routes };
}

function vintfState(v: Vintf, out: Finding[]): VintfState {
  const loc = (node: { span: A.Span } | undefined): Location => ({ uri: v.sym.uri, span: node?.span ?? v.sym.nameSpan });
  const iommu = v.iommu;
  if (iommu && (iommu.kind !== 'smmuv3' || !iommu.cmdqv)) {
    out.push(
      finding(
        'cmdqv-missing',
        loc(v.decl.iommu),
        iommu.kind !== 'smmuv3'
          ? `${iommu.sym.name} is ${iommu.kind ? `a ${iommu.kind}` : 'not an SMMUv3'} IOMMU: VINTFs belong to the CMDQV of an SMMUv3`
          : `${iommu.sym.name} has no CMDQV (add \`cmdqv\` to its block if the SMMU has one): there is no VINTF to give ${v.guest?.sym.name ?? 'the guest'}`,
        { related: [{ uri: iommu.sym.uri, span: iommu.sym.nameSpan, message: `IOMMU ${iommu.sym.name}` }] },
      ),
    );
  }
  const guestOwned = (v.owner ?? 'guest') === 'guest';
  if (guestOwned && v.hypOwn?.on) {
    const value = v.hypOwn.stmt.kind === 'hyp-own' ? v.hypOwn.stmt.value : undefined;
    out.push(
      finding(
        'cmdqv-hyp-own-by-guest',
        loc(v.hypOwn.stmt),
        `${v.sym.name} is guest-owned but HYP_OWN is set: the guest's VINTF_CONFIG write must not reach the bit. The VMM has to wire HYP_OWN to 0 when it traps the write, or the guest's queues accept every command, stage-2 and configuration ones included (RULES §9.1)`,
        { fixes: value ? [replace('Wire HYP_OWN to 0 (hyp-own off)', v.sym.uri, value.span, 'off')] : [] },
      ),
    );
  }
  const pairs = iommu?.cmdqv?.sidsPerVintf ?? MAX_SID_PAIRS;
  const bySid = new Map<bigint, { stream: VintfStream; index: number }>();
  v.streams.forEach((s, index) => {
    if (BigInt(index) >= pairs) {
      out.push(
        finding(
          'cmdqv-too-many-streams',
          loc(s.stmt),
          `${v.sym.name} has ${pairs} usable SID_MATCH/SID_REPLACE pair${pairs === 1n ? '' : 's'} (1 << CMDQV_NUM_SID_PER_VM_LOG2) and this is stream ${index + 1}: ${s.device?.sym.name ?? 'the device'} cannot be assigned through it (RULES §9.3)`,
          {
            related: iommu?.cmdqv
              ? [{ uri: iommu.sym.uri, span: iommu.sym.nameSpan, message: `${iommu.sym.name}: sids-per-vintf ${pairs}` }]
              : [],
          },
        ),
      );
      return;
    }
    if (s.device?.iommu && iommu && s.device.iommu !== iommu) {
      out.push(
        finding(
          'cmdqv-wrong-smmu',
          loc(s.stmt),
          `${s.device.sym.name} sits behind ${s.device.iommu.sym.name}, not behind ${v.sym.name}'s SMMU ${iommu.sym.name}: its stream ID means nothing to ${iommu.sym.name}, so the vIOMMU topology must mirror the physical one (one vSMMU and VINTF per physical SMMU, RULES §9.5)`,
          {
            related: [
              { uri: s.device.sym.uri, span: s.device.sym.nameSpan, message: `${s.device.sym.name}: iommu ${s.device.iommu.sym.name}` },
            ],
          },
        ),
      );
      return;
    }
    if (s.virtualSid !== undefined && !bySid.has(s.virtualSid)) bySid.set(s.virtualSid, { stream: s, index });
  });
  const stage2 = v.guest?.viommus.some((vi) => vi.via === v && vi.stage2) ?? false;
  return { vintf: v, guestOwned, pairs, bySid, stage2 };
}

/**
 * The VINTF's SID pairs as related locations: the streams that got one (at most
 * `sids-per-vintf`, 16), not every stream line, which may be thousands.
 */
function pairsRelated(state: VintfState): Related[] {
  const uri = state.vintf.sym.uri;
  return [...state.bySid.values()].map(({ stream: s }) => ({
    uri,
    span: s.stmt.span,
    message: `pair: ${s.virtualSid !== undefined ? hex(s.virtualSid) : '?'} → ${s.device?.sym.name ?? '?'}`,
  }));
}

function checkViommus(g: Guest, out: Finding[]): void {
  for (const vi of g.viommus) {
    if (!vi.via?.guest || vi.via.guest === g) continue;
    out.push(
      finding(
        'cmdqv-wrong-guest',
        { uri: g.sym.uri, span: vi.stmt.via?.span ?? vi.stmt.span },
        `VINTF ${vi.via.sym.name} is given to ${vi.via.guest.sym.name}, not to ${g.sym.name}: one VINTF serves one VM`,
        { related: [{ uri: vi.via.sym.uri, span: vi.via.sym.nameSpan, message: `vintf ${vi.via.sym.name} for ${vi.via.guest.sym.name}` }] },
      ),
    );
  }
}

function runBlock(block: CommandsBlock, state: VintfState | undefined, routes: Map<A.SmmuCommand, CommandRoute>, out: Finding[]): void {
  const uri = block.uri;
  const loc = (node: { span: A.Span }): Location => ({ uri, span: node.span });
  for (const batch of block.batches) {
    const cmds = batch.commands;
    if (!cmds.length) continue;
    const takes = (c: SmmuCmd) => !state?.guestOwned || (c.opcode !== undefined && GUEST_VCMDQ_COMMANDS.has(c.opcode));
    const firstTaken = cmds.find((c) => takes(c) && c.opcode !== 'CMD_SYNC');
    for (const c of cmds) {
      const route: CommandRoute = { cmd: c, state, accepted: takes(c) };
      routes.set(c.node, route);
      if (!c.opcode || !state) continue;
      const sid = c.operands.get('sid');
      if (sid && sid.value !== true) route.stream = { virtual: sid.value, pair: state.bySid.get(sid.value) };
      if (STAGE2_COMMANDS.has(c.opcode) && !state.stage2) {
        out.push(
          finding(
            'cmdqv-stage2-invalidation',
            loc(c.node),
            `${state.vintf.guest?.sym.name ?? 'the guest'}'s vSMMU has no stage 2 (IDR0.S2P=0), so ${c.opcode} has no business here: the guest's stage 2 is the host's, which the guest cannot see or invalidate${state.guestOwned ? `; a guest-owned VINTF's queue does not take it either` : ''} (RULES §9.4, §9.2)`,
          ),
        );
        continue;
      }
      if (!route.accepted) {
        out.push(
          firstTaken
            ? finding(
                'cmdqv-mixed-batch',
                loc(c.node),
                `this batch starts with ${firstTaken.opcode}, which the VCMDQ takes, and also holds ${c.opcode}, which a guest-owned VINTF does not: a driver that routes the batch by its first command puts ${c.opcode} on the VCMDQ, where the hardware rejects it. Split the batch and send ${c.opcode} to the emulated main queue (RULES §9.2)`,
                { related: [{ ...loc(firstTaken.node), message: `${firstTaken.opcode} decides the queue` }] },
              )
            : finding(
                'cmdqv-unsupported-command',
                loc(c.node),
                `${c.opcode} (${SMMU_OPCODES[c.opcode]!.what}) on ${state.vintf.sym.name}'s VCMDQ: a guest-owned VINTF takes only TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC. It belongs on the vSMMU's emulated main queue, where the VMM traps and performs it (RULES §9.2)`,
              ),
        );
        continue;
      }
      if (route.stream && !route.stream.pair) {
        const known = [...state.bySid.keys()].map(hex);
        out.push(
          finding(
            'cmdqv-unmapped-stream',
            sid ? { uri, span: sid.span } : loc(c.node),
            `stream ID ${hex(route.stream.virtual)} matches no SID_MATCH pair of ${state.vintf.sym.name}${known.length ? ` (it maps ${known.join(', ')})` : ''}: the VCMDQ treats the command as illegal (CERROR_ILL) and stops, and the error goes to the VMM (seed 004; RULES §9.6 is unconfirmed on what the hardware reports)`,
            { related: pairsRelated(state) },
          ),
        );
      }
    }
    const last = cmds[cmds.length - 1]!;
    if (last.opcode !== 'CMD_SYNC') {
      out.push(
        finding(
          'cmdqv-batch-without-sync',
          { uri, span: { start: batch.decl.span.start, end: batch.decl.span.start + 'batch'.length } },
          `this batch ends with ${last.node.opcode.text}, not CMD_SYNC: the guest cannot know when its commands completed, so it may reuse pages whose translations are still cached. Hardware-inserted syncs come at moments software cannot observe (RULES §9.4)`,
          {
            related: [{ ...loc(last.node), message: 'last command' }],
            fixes: [
              {
                title: 'Close the batch with CMD_SYNC',
                edits: [{ uri, span: { start: last.node.span.end, end: last.node.span.end }, newText: '; CMD_SYNC' }],
              },
            ],
          },
        ),
      );
    }
  }
}
