/**
 * The findings of one driver from the verdicts of its projection's order search: faults of a
 * teardown before the stop, stale Unmap()s, mappings left shared, DMA past the driver's handler;
 * each "in every order" or with one order that shows it (RULES §7.3, §7.5, §7.6).
 */
import type { Fix, Related } from '../../../model';
import type { FwAction, FwDriver, FwMapping } from '../model/types';
import { finding } from '../codes';
import { slotLabel, type EbsSlot, type FwCheck } from './notifyFunctions';
import { isCommonBuffer } from './pciIo';
import type { Projection, Witness } from './projection';
import type { Exploration } from './uefiEvents';

/** What DMA into a mapping torn down does, per technology: RMP or private-GPA checks fault; plain IOMMU translation faults. */
const FAULT = {
  'sev-snp': "the device's next access faults in the IOMMU (the page is guest-owned again in the RMP)",
  tdx: "the device's next access to the now private page is blocked",
  none: "the device's next access hits an IOMMU fault",
} as const;

/** Entries of a trace (one order, on hover) around where the problem happens; the rest are counted. */
export const TRACE_LIMIT = 12;
/** Functions an order names in a message. */
const MESSAGE_LIMIT = 6;
/** `stop-dma` locations a fault lists. */
const STOPS_LIMIT = 3;

/** Which entries of an order of `n` to show, at most `limit`: all, the first ones, or the first two and those up to `at`. */
function windowOf(n: number, at: number, limit: number): [number, number][] {
  if (n <= limit) return [[0, n]];
  if (at < limit) return [[0, limit]];
  return [
    [0, 2],
    [at + 1 - (limit - 2), at + 1],
  ];
}

/**
 * Findings of driver `d` from the verdicts of its projection `p`. A trace (hover) is the
 * witness order of the projection around where the problem happens, then one line for the
 * firmware's other notify functions: they run in between but change nothing for `d`.
 */
/** One driver's findings in the making: its projection and how its witness orders are told. */
interface DriverOrders {
  c: FwCheck;
  d: FwDriver;
  p: Projection;
  /** The device, as messages name it. */
  device: string;
  /** A witness order as a trace: the projection around where the problem happens, then the others counted. */
  trace(v: Witness): Related[];
  /** "in every order ..." or "in some orders ..., e.g. A, then B". */
  inOrder(v: Witness): string;
}

function driverOrders(c: FwCheck, d: FwDriver, p: Projection): DriverOrders {
  const { fw, run, loc, head, live } = c;
  const reachable = run.reachable;
  const local = p.views;
  const device = d.device?.sym.name ?? `${d.sym.name}'s device`;
  const others = live - local.filter((v) => reachable[v.index]).length;
  const ownEbs = local.flatMap((s, i) => (s.driver === d && s.ebs ? [i] : []));
  // Findings share witness orders: index each once, not once per finding.
  const positions = new Map<number[], Map<number, number>>();
  const position = (order: number[], slot: number) => {
    let m = positions.get(order);
    if (!m) positions.set(order, (m = new Map(order.map((g, n) => [g, n]))));
    return m.get(slot) ?? -1;
  };
  /** Where in `v.order` the problem happens: its acting function, the end of d's handlers, or the end. */
  const at = (v: Witness) => {
    if (v.slot !== undefined) return position(v.order, v.slot);
    if (v.kind === 'after' && ownEbs.length) return ownEbs.reduce((last, i) => Math.max(last, position(v.order, i)), -1);
    return v.order.length - 1;
  };
  const trace = (v: Witness): Related[] => {
    const t: Related[] = [];
    const gap = (n: number) => t.push(loc(fw.sym.nameSpan, `... ${n} more`));
    let shown = 0;
    for (const [from, to] of windowOf(v.order.length, at(v), TRACE_LIMIT)) {
      if (from > shown) gap(from - shown);
      for (let n = from; n < to; n++) t.push(loc(head(local[v.order[n]!]!.of.handler), `${n + 1}. ${slotLabel(local[v.order[n]!]!.of)}`));
      shown = to;
    }
    if (v.order.length > shown) gap(v.order.length - shown);
    if (others) {
      t.push(
        loc(
          fw.sym.nameSpan,
          `and ${others} other notify function${others > 1 ? 's' : ''} of firmware ${fw.sym.name}, in between: ` +
            `${others > 1 ? 'none changes' : 'it does not change'} what happens to ${device} or ${d.sym.name}'s mappings`,
        ),
      );
    }
    return t;
  };
  const inOrder = (v: Witness) => {
    if (v.every) return 'in every order the UEFI specification allows';
    const parts = windowOf(v.order.length, at(v), MESSAGE_LIMIT).map(([from, to]) =>
      v.order
        .slice(from, to)
        .map((i) => slotLabel(local[i]!.of))
        .join(', then '),
    );
    const more = v.order.length > MESSAGE_LIMIT ? ` (${v.order.length} functions in all)` : '';
    return `in some orders the UEFI specification allows, e.g. ${parts.join(', then ..., then ')}${more}`;
  };
  return { c, d, p, device, trace, inOrder };
}

export function driverFindings(c: FwCheck, d: FwDriver, p: Projection, x: Exploration): void {
  const { uri, out, confidential, loc } = c;
  const o = driverOrders(c, d, p);
  const { device, trace, inOrder } = o;
  const local = p.views;
  // The first few: a long handler stopping many times would make every fault list them all.
  const stopping = local.flatMap((v) => (v.driver === d ? v.of.actions.filter((a) => a.verb === 'stop-dma') : []));
  const stops = stopping
    .slice(0, STOPS_LIMIT)
    .map((a, i) =>
      loc(
        a.node.span,
        i === STOPS_LIMIT - 1 && stopping.length > STOPS_LIMIT
          ? `${device} stops DMA here (and at ${stopping.length - STOPS_LIMIT} more places)`
          : `${device} stops DMA here`,
      ),
    );

  // Group per acting statement: one finding per action, listing the mappings it hits.
  const groups = new Map<string, Witness & { action: FwAction; acting: EbsSlot; maps: FwMapping[] }>();
  for (const [key, v] of x.verdicts) {
    const [kind, a, b, c] = key.split(':');
    if (kind === 'fault' || kind === 'double') {
      const view = local[Number(a)]!;
      const action = view.of.actions[view.kept[Number(b)]!]!;
      const id = `${kind}:${a}:${b}:${v.every}`;
      const g = groups.get(id) ?? { action, acting: view.of, maps: [], every: v.every, order: v.order, kind, slot: Number(a) };
      g.maps.push(p.maps[Number(c)]!);
      groups.set(id, g);
    } else if (kind === 'left') {
      leftFinding(o, p.maps[Number(a)]!, { ...v, kind });
    } else if (kind === 'after') {
      afterFinding(o, { ...v, kind });
    }
  }
  for (const g of groups.values()) {
    const names = g.maps.map((m) => m.sym.name).join(', ');
    const severity = g.every ? 'error' : 'warning';
    const what = g.action.verb === 'unmap-all' ? `${slotLabel(g.acting)} unmaps every mapping` : `${slotLabel(g.acting)} unmaps ${names}`;
    if (g.kind === 'fault') {
      out.push(
        finding(
          'fw-teardown-before-stop',
          { uri, span: g.action.node.span },
          `${what} while ${device} may still do DMA into ${names} ` +
            `(pending), ${inOrder(g)}: ${FAULT[confidential ?? 'none']}. Tear mappings down only after ${d.sym.name} ` +
            'has stopped the device (RULES §7.5)',
          { severity, related: [...stops, ...g.maps.map((m) => loc(m.stmt.span, `${m.sym.name}: DMA pending`))], trace: trace(g) },
        ),
      );
    } else {
      const why = g.maps.every((m) => m.state === 'completed')
        ? `${names} ${g.maps.length > 1 ? 'are' : 'is'} \`completed\`: ${d.sym.name} ` +
          `unmapped ${g.maps.length > 1 ? 'them' : 'it'} before its call returned`
        : `another notify function has already torn ${names} down, ${inOrder(g)}`;
      out.push(
        finding(
          'fw-double-unmap',
          { uri, span: g.action.node.span },
          `Unmap() of a mapping that is gone: ${why}. The Mapping handle is stale (IoMmuDxe ` +
            'would unlink and re-encrypt a MAP_INFO that is no longer on its list)',
          {
            severity,
            related: g.maps.map((m) => loc(m.stmt.span, `${m.sym.name} is mapped here`)),
            trace: g.every ? undefined : trace(g),
          },
        ),
      );
    }
  }
}

function leftFinding(o: DriverOrders, m: FwMapping, v: Witness): void {
  const { c, d, trace, inOrder } = o;
  const { fw, uri, out, run, confidential } = c;
  run.left.add(m);
  const still = `${m.sym.name} of ${d.sym.name} is still mapped when ExitBootServices returns${v.every ? '' : ` ${inOrder(v)}`}`;
  if (!confidential) {
    // IoMmuDxeEntryPoint installs the IOMMU protocol only under SEV or TDX; elsewhere PciIo.Map() goes to the root bridge.
    out.push(
      finding(
        'fw-mapping-left',
        { uri, span: m.sym.nameSpan },
        `${still}, but guest ${fw.guest?.sym.name ?? '?'} is not confidential: ` +
          "OVMF's IoMmuDxe installs IoMmuAbsentProtocol outside SEV/TDX, " +
          ('so Map() went to the root bridge, which maps in place (bouncing only above ' +
            '4 GiB, through boot-services memory the OS reclaims); ') +
          'no IOMMU mapping and no shared memory are left behind (RULES §7.3)',
        { severity: 'information', trace: v.every ? undefined : trace(v) },
      ),
    );
    return;
  }
  const leak =
    `its ${m.operation && isCommonBuffer(m.operation) ? 'buffer' : 'bounce buffer'} stays shared (decrypted) with the host after ` +
    `ExitBootServices (${confidential === 'tdx' ? 'TDX' : 'SEV-SNP'}), readable and writable by the hypervisor`;
  out.push(
    finding(
      'fw-mapping-left',
      { uri, span: m.sym.nameSpan },
      `${still}: ${leak}. Unmap it in the IOMMU protocol's deferred unmap-all (RULES §7.3, §7.5)`,
      { severity: v.every ? 'error' : 'warning', trace: v.every ? undefined : trace(v) },
    ),
  );
}

function afterFinding(o: DriverOrders, v: Witness): void {
  const { c, d, p, device, trace, inOrder } = o;
  const { uri, out, run, head } = c;
  const local = p.views;
  const reachable = run.reachable;
  const own = local.filter((v) => v.driver === d && v.ebs).map((v) => v.of);
  const pending = p.maps
    .filter((m) => m.state === 'pending')
    .map((m) => m.sym.name)
    .join(', ');
  const later = local.find((v) => v.driver === d && !v.ebs && reachable[v.index] && v.of.actions.some((a) => a.verb === 'stop-dma'))?.of;
  const why = !own.length
    ? `${d.sym.name} has no ExitBootServices handler`
    : later
      ? `its stop-dma runs only in ${slotLabel(later)}, queued behind other notify functions`
      : `its ExitBootServices handler never stops the device`;
  const at = own[0] ? head(own[0].handler) : d.sym.nameSpan;
  // A stop that comes later still ends the DMA inside ExitBootServices: a broken "must", not a failure (RULES §0.1, §7.6).
  const outlives = !later;
  const consequence = outlives
    ? 'nothing stops it, so its DMA outlives ExitBootServices and "may corrupt memory that is now owned by the operating system"'
    : "the DMA still ends inside ExitBootServices, but the Driver Writer's Guide (25.2.1, for " +
      'network controllers) says the handler "must ... disable all further DMA activity"';
  out.push(
    finding(
      'fw-dma-after-handler',
      { uri, span: at },
      `${device} still does DMA into ${pending} when ${d.sym.name}'s ExitBootServices handling is ` +
        `over${v.every ? '' : ` ${inOrder(v)}`}: ${why}; ${consequence} (RULES §7.6)`,
      { severity: outlives && v.every ? 'error' : 'warning', fixes: stopDmaFix(o, own[0]), trace: v.every ? undefined : trace(v) },
    ),
  );
}

/** Inserts `stop-dma` first in the handler, or adds a handler. Indentation follows the 2-space convention. */
function stopDmaFix(o: DriverOrders, own: EbsSlot | undefined): Fix[] {
  const { c, d, device } = o;
  const { uri } = c;
  const title = `Stop ${device}'s DMA first in ${d.sym.name}'s ExitBootServices handler`;
  const insert = (at: number, newText: string): Fix[] => [{ title, edits: [{ uri, span: { start: at, end: at }, newText }] }];
  if (!own) {
    const last = d.decl.items.at(-1);
    if (last) return insert(last.span.end, '\n    on exit-boot-services tpl callback stop-dma');
    return d.decl.braces ? insert(d.decl.braces.open.end, ' on exit-boot-services tpl callback stop-dma') : [];
  }
  const h = own.handler.stmt;
  const first = h.actions[0];
  if (h.braces) {
    if (!first) return insert(h.braces.open.end, ' stop-dma');
    return insert(first.span.start, first.span.start - h.braces.open.end <= 1 ? 'stop-dma; ' : 'stop-dma\n      ');
  }
  if (first) {
    return [
      {
        title,
        edits: [
          { uri, span: { start: first.span.start, end: first.span.start }, newText: '{ stop-dma; ' },
          { uri, span: { start: first.span.end, end: first.span.end }, newText: ' }' },
        ],
      },
    ];
  }
  return insert(h.span.end, ' stop-dma');
}
