/**
 * SEV-SNP launch ordering (RULES §6.2–6.3). SNP_LAUNCH_UPDATE measures guest memory and
 * makes it private; it can only convert pages that are still shared in the RMP. A device
 * realized *private* before it (the RFC's `x-tio=true` at start, or a private hot-add before
 * the launch) makes iommufd pin guest RAM and turn it guest-owned in the RMP, so the launch
 * fails with -EEXIST. The finding goes where the device was made private; the fix realizes
 * it bind-capable, which stays shared until the guest converts it.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { hex } from '../../../model/interval';
import type { Device, Guest, ResolvedStep } from '../../../model/types';
import type { GuestRamRange } from '../../../sim/qemu';

/** A device realized private before the launch: where, and the mode word a fix rewrites. */
export interface Pinned {
  device: Device;
  at: Location;
  mode?: A.Word;
}

export interface LaunchState {
  launched?: Related;
  pinned: Pinned[];
}

export function newLaunch(): LaunchState {
  return { pinned: [] };
}

/** A device realized in a guest whose launch has not run: a private one pins guest memory. */
export function realizedBeforeLaunch(g: Guest, st: LaunchState, p: Pinned, private_: boolean): void {
  if (private_ && g.confidential?.technology === 'sev-snp' && !st.launched) st.pinned.push(p);
}

/**
 * `launch-update G`. `reported` keeps one finding per assign line when several timelines
 * launch the same guest.
 */
export function launchUpdate(
  r: ResolvedStep,
  g: Guest,
  st: LaunchState,
  ram: readonly GuestRamRange[],
  reported: Set<string>,
  out: Finding[],
): void {
  const step: Location = { uri: r.uri, span: r.step.span };
  if (g.confidential?.technology !== 'sev-snp') {
    out.push(
      finding(
        'sev-not-confidential',
        step,
        `SNP_LAUNCH_UPDATE is an SEV-SNP command, and guest ${g.sym.name} is ${g.confidential ? `${g.confidential.technology ?? 'confidential'}, not SEV-SNP` : 'not confidential'}: KVM_SEV_SNP_LAUNCH_UPDATE fails for it`,
        { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }] },
      ),
    );
    return;
  }
  const first = ram.reduce<GuestRamRange | undefined>((m, x) => (!m || x.range.start < m.range.start ? x : m), undefined);
  const gfn = first ? hex(first.range.start >> 12n) : '0x0';
  for (const p of st.pinned) {
    const key = `${p.at.uri}:${p.at.span.start}`;
    if (reported.has(key)) continue;
    reported.add(key);
    out.push(
      finding(
        'sev-launch-private-pinned',
        p.at,
        `${p.device.sym.name} is realized private here, before SNP_LAUNCH_UPDATE: iommufd pins guest RAM and maps it private, which makes the pages guest-owned in the RMP. The launch then finds them already private and fails with -EEXIST ("Failed to ensure GFN ${gfn} RMP entry is initial shared state"), and guest ${g.sym.name} never starts (RULES §6.3, §6.2)`,
        {
          related: [{ uri: r.uri, span: r.step.span, message: `SNP_LAUNCH_UPDATE for guest ${g.sym.name}` }],
          fixes: p.mode
            ? [
                {
                  title: `Realize ${p.device.sym.name} bind-capable (shared until the guest converts it)`,
                  edits: [{ uri: p.at.uri, span: p.mode.span, newText: 'bind-capable' }],
                },
              ]
            : [],
        },
      ),
    );
  }
  st.pinned = [];
  st.launched = { uri: r.uri, span: r.step.span, message: `guest ${g.sym.name} is launched (SNP_LAUNCH_UPDATE)` };
}
