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
import type { Device, Guest, Iommu, Model, Viommu } from '../../../model/types';
import type { CommandsBlock, SmmuBatch, SmmuCmd, Vintf, VintfStream } from '../model/types';

/** VINTFs named as related locations when too many share an SMMU. */
const RELATED_VINTFS = 4;

/** The hardware has room for 16 SID pairs per VINTF (RULES §9.3). */
export const MAX_SID_PAIRS = 16n;

/** A VINTF as the simulator sees it: its HYP_OWN bit and the pairs that fit. */
export interface VintfState {
  vintf: Vintf;
  /**
   * HYP_OWN as programmed: the kernel sets it for its own VINTF0 and clears it for every VINTF
   * it hands to user space (tegra241_vintf_hw_init). It decides what the queues take.
   */
  hypOwn: boolean;
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
  /** The VCMDQ takes it (a HYP_OWN VINTF takes everything). */
  accepted: boolean;
  /** The stream the command names, translated (or not) through the VINTF's pairs; a HYP_OWN VINTF's are physical. */
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
  for (const [iommu, list] of perIommu) vintfCount(iommu, list, out);
  for (const g of model.guests.values()) checkViommus(g, out);
  const routes = new Map<A.SmmuCommand, CommandRoute>();
  for (const block of model.commands) runBlock(block, block.vintf ? vintfs.get(block.vintf) : undefined, routes, out);
  return { vintfs, routes };
}

/**
 * RULES §9.7: VINTF0 is the host kernel's (tegra241_cmdqv_init_structures); user space gets
 * VINTFs 1..N-1 (tegra241_cmdqv_init_vintf_user: ida_alloc_max(num_vintfs - 1)).
 */
function vintfCount(iommu: Iommu, list: Vintf[], out: Finding[]): void {
  const max = iommu.cmdqv?.vintfs;
  if (max === undefined) return;
  const guests = list.filter((v) => v.guest);
  const hosts = list.filter((v) => !v.guest);
  for (const v of hosts.slice(1)) {
    out.push(
      finding(
        'cmdqv-too-many-vintfs',
        { uri: v.sym.uri, span: v.sym.nameSpan },
        `${iommu.sym.name} has one host VINTF, VINTF0 (tegra241_cmdqv_init_structures): ${hosts[0]!.sym.name} is it already`,
        { related: [{ uri: hosts[0]!.sym.uri, span: hosts[0]!.sym.nameSpan, message: `VINTF0 ${hosts[0]!.sym.name}` }] },
      ),
    );
  }
  const room = max - 1n;
  // The first VINTFs, which get the hardware's, as related locations: a few (thousands
  // declared on one SMMU would repeat them all per finding).
  const holders = guests
    .slice(0, Math.min(Number(room), RELATED_VINTFS))
    .map((w) => ({ uri: w.sym.uri, span: w.sym.nameSpan, message: `VINTF ${w.sym.name}` }));
  for (const v of guests.slice(Number(room))) {
    out.push(
      finding(
        'cmdqv-too-many-vintfs',
        { uri: v.sym.uri, span: v.sym.nameSpan },
        `${iommu.sym.name}'s CMDQV has ${max} VINTF${max === 1n ? '' : 's'}, and VINTF0 is the host kernel's: guests ` +
          `get ${room} and ${guests.length} are declared. For ${v.sym.name} the kernel logs "tegra241_cmdqv: no more ` +
          'available vintf" and IOMMU_VIOMMU_ALLOC fails with -ENOSPC (tegra241_cmdqv_init_vintf_user)',
        { related: holders },
      ),
    );
  }
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
          : `${iommu.sym.name} has no CMDQV (add \`cmdqv\` to its block if the SMMU has one): ` +
              'IOMMU_VIOMMU_ALLOC of type TEGRA241_CMDQV fails with -EOPNOTSUPP (no driver size for the ' +
              `type), so there is no VINTF to give ${v.guest?.sym.name ?? 'the guest'}`,
        { related: [{ uri: iommu.sym.uri, span: iommu.sym.nameSpan, message: `IOMMU ${iommu.sym.name}` }] },
      ),
    );
  }
  // The kernel keeps HYP_OWN for its VINTF0 and clears it for every VINTF it gives user space.
  const hypOwn = v.hypOwn?.on ?? !v.guest;
  if (v.guest && v.hypOwn?.on) {
    const value = v.hypOwn.stmt.kind === 'hyp-own' ? v.hypOwn.stmt.value : undefined;
    out.push(
      finding(
        'cmdqv-hyp-own-by-guest',
        loc(v.hypOwn.stmt),
        `${v.sym.name} is given to ${v.guest.sym.name} with HYP_OWN set, which no upstream setup does: the kernel programs ` +
          'HYP_OWN=0 for every VINTF it hands to user space (tegra241_cmdqv_init_vintf_user calls ' +
          "tegra241_vintf_hw_init(vintf, false)) and maps only the LVCMDQ pages, so the guest's VINTF_CONFIG write never " +
          "reaches the bit. A VMM that traps VINTF_CONFIG and passes HYP_OWN through is seed 004's RFC design; with it the " +
          "guest's queues would take every command, stage-2 and configuration ones included (RULES §9.1)",
        { fixes: value ? [replace('Wire HYP_OWN to 0 (hyp-own off)', v.sym.uri, value.span, 'off')] : [] },
      ),
    );
  }
  const pairs = iommu?.cmdqv?.sidsPerVintf ?? MAX_SID_PAIRS;
  // The host's VINTF0 has no vDEVICEs: its driver writes physical stream IDs.
  const bySid = v.guest ? vdevices(v, pairs, out) : new Map<bigint, { stream: VintfStream; index: number }>();
  queues(v, out);
  // The host kernel owns stage 2; a guest's vSMMU has it only if it advertises it.
  const stage2 = v.guest ? v.guest.viommus.some((vi) => vi.via === v && vi.stage2) : true;
  return { vintf: v, hypOwn, pairs, bySid, stage2 };
}

/**
 * A guest VINTF's streams as IOMMU_VDEVICE_ALLOC takes them, in order (iommufd_vdevice_alloc_ioctl,
 * then tegra241_vintf_init_vsid): the device must be the VMM's and behind the vIOMMU's SMMU, the
 * virtual ID and the device each once per vIOMMU, then a free SID_MATCH/SID_REPLACE pair. Only a
 * stream that got its vDEVICE takes a pair.
 */
function vdevices(v: Vintf, pairs: bigint, out: Finding[]): Map<bigint, { stream: VintfStream; index: number }> {
  const bySid = new Map<bigint, { stream: VintfStream; index: number }>();
  const byDevice = new Map<Device, VintfStream>();
  v.streams.forEach((s, index) => {
    const refused = deviceRefusal(v, s) ?? idRefusal(v, s, pairs, bySid, byDevice);
    if (refused) {
      out.push(refused);
      return;
    }
    const dev = s.device;
    if (dev?.streams && dev.streams.length > 1) {
      out.push(
        finding(
          'cmdqv-multi-stream-device',
          vintfLoc(v, s.stmt),
          `${dev.sym.name} has ${dev.streams.length} stream IDs (${dev.streams.map(hex).join(', ')}): the pair ` +
            `maps only the first, ${hex(dev.streams[0]!)} (tegra241_vintf_init_vsid writes master->streams[0] and ` +
            'WARN_ON_ONCE(num_streams != 1)); commands for the others match nothing',
          { severity: 'warning' },
        ),
      );
    }
    if (dev) byDevice.set(dev, s);
    if (s.virtualSid !== undefined) bySid.set(s.virtualSid, { stream: s, index });
  });
  return bySid;
}

/** Where a statement of a VINTF is. */
const vintfLoc = (v: Vintf, node: { span: A.Span }): Location => ({ uri: v.sym.uri, span: node.span });

/** A stream that already has its vDEVICE, for a finding's related information. */
const streamRelated = (v: Vintf, s: VintfStream): Related => ({
  ...vintfLoc(v, s.stmt),
  message: `${s.device?.sym.name ?? '?'} as ${s.virtualSid !== undefined ? hex(s.virtualSid) : '?'}`,
});

/** Why IOMMU_VDEVICE_ALLOC refuses the stream's device: not the VMM's, or behind another SMMU. */
function deviceRefusal(v: Vintf, s: VintfStream): Finding | undefined {
  const dev = s.device;
  if (dev && v.guest && !s.assigned) {
    return finding(
      'cmdqv-stream-not-assigned',
      vintfLoc(v, s.stmt),
      `${dev.sym.name} is not assigned to ${v.guest.sym.name}: IOMMU_VDEVICE_ALLOC takes a device bound to ` +
        "the VMM's own iommufd (iommufd_get_device), so no vDEVICE and no SID pair for it",
    );
  }
  const iommu = v.iommu;
  if (dev?.iommu && iommu && dev.iommu !== iommu) {
    return finding(
      'cmdqv-wrong-smmu',
      vintfLoc(v, s.stmt),
      `${dev.sym.name} sits behind ${dev.iommu.sym.name}, not behind ${v.sym.name}'s SMMU ${iommu.sym.name}: ` +
        "IOMMU_VDEVICE_ALLOC fails with -EINVAL (viommu->iommu_dev differs from the device's IOMMU, " +
        'iommufd_vdevice_alloc_ioctl). The vIOMMU topology must mirror the physical one: ' +
        'one vSMMU and VINTF per physical SMMU (RULES §9.5)',
      { related: [{ uri: dev.sym.uri, span: dev.sym.nameSpan, message: `${dev.sym.name}: iommu ${dev.iommu.sym.name}` }] },
    );
  }
  return undefined;
}

/**
 * Why IOMMU_VDEVICE_ALLOC refuses the stream's IDs, given the streams before it: its virtual ID
 * or its device already has a vDEVICE, or the VINTF's SID pairs are all taken.
 */
function idRefusal(
  v: Vintf,
  s: VintfStream,
  pairs: bigint,
  bySid: ReadonlyMap<bigint, { stream: VintfStream; index: number }>,
  byDevice: ReadonlyMap<Device, VintfStream>,
): Finding | undefined {
  const dev = s.device;
  const iommu = v.iommu;
  const sameSid = s.virtualSid !== undefined ? bySid.get(s.virtualSid) : undefined;
  if (sameSid) {
    return finding(
      'cmdqv-duplicate-virtual-sid',
      vintfLoc(v, s.stmt),
      `virtual stream ID ${hex(s.virtualSid!)} is already ${sameSid.stream.device?.sym.name ?? 'taken'}'s ` +
        `on ${v.sym.name}: IOMMU_VDEVICE_ALLOC fails with -EEXIST (the vIOMMU's vDEVICE IDs are unique, ` +
        `iommufd_vdevice_alloc_ioctl), so ${dev?.sym.name ?? 'the device'} gets no pair`,
      { related: [streamRelated(v, sameSid.stream)] },
    );
  }
  const sameDevice = dev ? byDevice.get(dev) : undefined;
  if (sameDevice) {
    return finding(
      'cmdqv-device-twice',
      vintfLoc(v, s.stmt),
      `${dev!.sym.name} already has a vDEVICE on ${v.sym.name}: IOMMU_VDEVICE_ALLOC fails with -EEXIST ` +
        '(a device has at most one vDEVICE: idev->vdev, iommufd_vdevice_alloc_ioctl)',
      { related: [streamRelated(v, sameDevice)] },
    );
  }
  if (BigInt(bySid.size) >= pairs) {
    return finding(
      'cmdqv-too-many-streams',
      vintfLoc(v, s.stmt),
      `${v.sym.name} has ${pairs} usable SID_MATCH/SID_REPLACE pair${pairs === 1n ? '' : 's'} (1 << ` +
        `CMDQV_NUM_SID_PER_VM_LOG2), all taken: IOMMU_VDEVICE_ALLOC for ${dev?.sym.name ?? 'the device'} fails ` +
        'with -ENOSPC (tegra241_vintf_init_vsid: ida_alloc_max finds no free pair) (RULES §9.3)',
      {
        related: iommu?.cmdqv
          ? [{ uri: iommu.sym.uri, span: iommu.sym.nameSpan, message: `${iommu.sym.name}: sids-per-vintf ${pairs}` }]
          : [],
      },
    );
  }
  return undefined;
}

/** CMDQ entries are 16 bytes (CMDQ_ENT_SZ_SHIFT); a queue holds at least two. */
const MIN_QUEUE_BYTES = 32n;

/**
 * The LVCMDQs the VMM allocates, checked in order as tegra241_vintf_alloc_lvcmdq_user() does
 * (IOMMU_HW_QUEUE_ALLOC). The bound on the index needs the CMDQV's `vcmdqs`.
 */
function queues(v: Vintf, out: Finding[]): void {
  const cmdqv = v.iommu?.cmdqv;
  const perVintf = cmdqv?.vcmdqs !== undefined && cmdqv.vintfs !== undefined ? cmdqv.vcmdqs / cmdqv.vintfs : undefined;
  const allocated = new Set<bigint>();
  for (const q of v.queues) {
    if (q.index === undefined || q.size === undefined) continue;
    const why =
      perVintf !== undefined && q.index >= perVintf
        ? `-EINVAL: index ${q.index} is not below num_lvcmdqs_per_vintf = vcmdqs / vintfs = ${perVintf}`
        : allocated.has(q.index)
          ? `-EEXIST: LVCMDQ ${q.index} is allocated already`
          : q.index > 0n && !allocated.has(q.index - 1n)
            ? `-EIO: LVCMDQ ${q.index - 1n} is not allocated ("HW requires to map LVCMDQs in ascending order")`
            : (q.size & (q.size - 1n)) !== 0n || q.size < MIN_QUEUE_BYTES
              ? `-EINVAL: the length ${q.size} bytes must be a power of two of at least ${MIN_QUEUE_BYTES}`
              : q.base !== undefined && (q.base & (q.size - 1n)) !== 0n
                ? `-EINVAL: the base ${hex(q.base)} is not aligned to the length ${hex(q.size)}`
                : undefined;
    if (!why) {
      allocated.add(q.index);
      continue;
    }
    out.push(
      finding(
        'cmdqv-queue-refused',
        { uri: v.sym.uri, span: q.stmt.span },
        `IOMMU_HW_QUEUE_ALLOC for ${v.sym.name}'s LVCMDQ ${q.index} fails with ${why} (tegra241_vintf_alloc_lvcmdq_user)`,
      ),
    );
  }
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
  // `via` resolves only to a VINTF (guest.ts looks it up as one).
  for (const vi of g.viommus as (Viommu & { via?: Vintf })[]) {
    if (!vi.via) continue;
    if (g.container !== 'iommufd') {
      out.push(
        finding(
          'cmdqv-needs-iommufd',
          { uri: g.sym.uri, span: vi.stmt.via?.span ?? vi.stmt.span },
          `${g.sym.name} uses a VFIO type1 container` +
            `${g.decl.items.some((i) => i.kind === 'container') ? '' : ' (the default without `container iommufd`)'}` +
            ': a VINTF is handed out only as an iommufd vIOMMU (IOMMU_VIOMMU_ALLOC on /dev/iommu, over a ' +
            'nest-parent HWPT); type1 has no such path',
        ),
      );
    }
    if (!vi.via.guest || vi.via.guest === g) continue;
    out.push(
      finding(
        'cmdqv-wrong-guest',
        { uri: g.sym.uri, span: vi.stmt.via?.span ?? vi.stmt.span },
        `VINTF ${vi.via.sym.name} is given to ${vi.via.guest.sym.name}, not to ${g.sym.name}: one VINTF serves one VM ` +
          "(its vIOMMU lives in that VMM's iommufd context; another process cannot name it, -ENOENT)",
        { related: [{ uri: vi.via.sym.uri, span: vi.via.sym.nameSpan, message: `vintf ${vi.via.sym.name} for ${vi.via.guest.sym.name}` }] },
      ),
    );
  }
}

/** What a HYP_OWN=0 queue does with a command outside its set: the driver's words, and what it reports. */
const RESTRICTED =
  '"!HYP_OWN cmdq HWs only support a restricted set of supported commands" ' +
  '(tegra241_vintf_hw_init): TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC';

function runBlock(block: CommandsBlock, state: VintfState | undefined, routes: Map<A.SmmuCommand, CommandRoute>, out: Finding[]): void {
  const uri = block.uri;
  const loc = (node: { span: A.Span }): Location => ({ uri, span: node.span });
  // For each batch, the CMD_SYNC that closes a later batch on the same queue (one sweep from the end).
  const nextSync: (SmmuCmd | undefined)[] = [];
  let sync: SmmuCmd | undefined;
  for (let i = block.batches.length - 1; i >= 0; i--) {
    nextSync[i] = sync;
    const last = block.batches[i]!.commands.at(-1);
    if (last?.opcode === 'CMD_SYNC') sync = last;
  }
  block.batches.forEach((batch, i) => {
    const cmds = batch.commands;
    if (!cmds.length) return;
    const takes = (c: SmmuCmd) => !!state?.hypOwn || (c.opcode !== undefined && GUEST_VCMDQ_COMMANDS.has(c.opcode));
    const firstTaken = cmds.find((c) => takes(c) && c.opcode !== 'CMD_SYNC');
    for (const c of cmds) {
      const route: CommandRoute = { cmd: c, state, accepted: takes(c) };
      routes.set(c.node, route);
      if (!c.opcode || !state) continue;
      const sid = c.operands.get('sid');
      // The host's VINTF has no pairs: its driver writes physical stream IDs.
      if (sid && sid.value !== true)
        route.stream = { virtual: sid.value, pair: state.vintf.guest ? state.bySid.get(sid.value) : undefined };
      if (STAGE2_COMMANDS.has(c.opcode) && !state.stage2) {
        out.push(
          finding(
            'cmdqv-stage2-invalidation',
            loc(c.node),
            `${state.vintf.guest?.sym.name ?? 'the guest'}'s vSMMU has no stage 2 (IDR0.S2P=0), so ${c.opcode} has no ` +
              "business here: the guest's stage 2 is the host's, which the guest cannot see or invalidate" +
              `${
                state.hypOwn
                  ? ''
                  : `. A HYP_OWN=0 queue does not take it (${RESTRICTED}), and on the emulated main queue ` +
                    'arm_vsmmu_convert_user_cmd() has no case for it either (-EIO)'
              } (RULES §9.4, §9.2)`,
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
                `this batch starts with ${firstTaken.opcode}, which the VCMDQ takes, and also holds ${c.opcode}, which a ` +
                  "HYP_OWN=0 queue does not: a driver that routes the batch by its first command (seed 004's RFC) " +
                  `puts ${c.opcode} on the VCMDQ. The merged driver issues the batch so far with a CMD_SYNC and starts a new ` +
                  'one on the main queue (arm_smmu_cmdq_batch_add); split the batch (RULES §9.2)',
                { related: [{ ...loc(firstTaken.node), message: `${firstTaken.opcode} decides the queue` }] },
              )
            : finding(
                'cmdqv-unsupported-command',
                loc(c.node),
                `${c.opcode} (${SMMU_OPCODES[c.opcode]!.what}) on ${state.vintf.sym.name}'s VCMDQ, whose VINTF has ` +
                  `HYP_OWN=0: ${RESTRICTED}. The queue error goes to the VMM as a vEVENT (lvcmdq_err_map). ${c.opcode} ` +
                  "belongs on the vSMMU's emulated main queue: the VMM forwards it through " +
                  `IOMMU_HWPT_INVALIDATE${c.opcode === 'CFGI_STE' ? ', or for CFGI_STE re-attaches the nested domain' : ''} (RULES §9.2)`,
              ),
        );
        continue;
      }
      if (route.stream && !route.stream.pair && state.vintf.guest) {
        const known = [...state.bySid.keys()].map(hex);
        out.push(
          finding(
            'cmdqv-unmapped-stream',
            sid ? { uri, span: sid.span } : loc(c.node),
            `stream ID ${hex(route.stream.virtual)} matches no SID_MATCH pair ` +
              `of ${state.vintf.sym.name}${known.length ? ` (it maps ${known.join(', ')})` : ''}: the VCMDQ treats the command ` +
              'as illegal (CERROR_ILL) and stops, and the error goes to the VMM (seed 004; RULES §9.6 is unconfirmed on what ' +
              'the hardware reports)',
            { related: pairsRelated(state) },
          ),
        );
      }
    }
    const last = cmds[cmds.length - 1]!;
    if (last.opcode !== 'CMD_SYNC') batchWithoutSync(uri, batch, last, nextSync[i], out);
  });
}

/**
 * RULES §9.4: the queue consumes commands as they come; CMD_SYNC is only where the guest learns
 * they completed. A later CMD_SYNC on the same queue completes them too (information); without
 * one the guest never knows (a warning), and an ATC_INV timing out is only reported when the
 * queue goes to the next VM (tegra241_vcmdq_hw_flush_timeout).
 */
function batchWithoutSync(uri: string, batch: SmmuBatch, last: SmmuCmd, later: SmmuCmd | undefined, out: Finding[]): void {
  const atc =
    last.opcode === 'ATC_INV'
      ? ' An ATC_INV that times out at the end of the queue with no CMD_SYNC after it: "the TIMEOUT will not be ' +
        'reported until this VCMDQ gets assigned to the next VM" (tegra241_vcmdq_hw_flush_timeout).'
      : '';
  out.push(
    finding(
      'cmdqv-batch-without-sync',
      { uri, span: { start: batch.decl.span.start, end: batch.decl.span.start + 'batch'.length } },
      later
        ? `this batch ends with ${last.node.opcode.text}, not CMD_SYNC: the queue executes it anyway, and it is completed by the ` +
            `CMD_SYNC of a later batch on the same queue; the guest learns of it only then (RULES §9.4).${atc}`
        : `this batch ends with ${last.node.opcode.text}, not CMD_SYNC, and no later batch on the queue ` +
            'syncs: the commands still execute, but the guest never observes their completion, so it may ' +
            `reuse pages whose translations are still cached (RULES §9.4).${atc}`,
      {
        severity: later ? 'information' : 'warning',
        related: [
          { uri, span: last.node.span, message: 'last command' },
          ...(later ? [{ uri, span: later.node.span, message: 'the CMD_SYNC that completes it' }] : []),
        ],
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
