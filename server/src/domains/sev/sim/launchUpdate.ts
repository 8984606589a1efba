/**
 * SEV-SNP launch ordering (RULES §6.2–6.3, §6.6). SNP_LAUNCH_UPDATE (QEMU's
 * sev_snp_launch_finish, at the first VM start) populates the launch pages (the OVMF image
 * and its SEV metadata pages) and makes them private; KVM's sev_gmem_post_populate fails with
 * -EEXIST on the first page already guest-owned in the RMP, and QEMU exits. That realizing a
 * device *private* before it (the RFC's `x-tio=true` at start, or a private hot-add before the
 * launch) makes iommufd pin guest memory and turn it guest-owned is the SEV-TIO RFC's report
 * (seed 001), unconfirmed, and the finding says so. It goes where the device was made
 * private; the fix realizes it bind-capable, which stays shared until the guest converts it.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import type { Device, Guest, ResolvedStep } from '../../../model/types';

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
export function launchUpdate(r: ResolvedStep, g: Guest, st: LaunchState, reported: Set<string>, out: Finding[]): void {
  const step: Location = { uri: r.uri, span: r.step.span };
  if (g.confidential?.technology !== 'sev-snp') {
    out.push(
      finding(
        'sev-not-confidential',
        step,
        `SNP_LAUNCH_UPDATE is an SEV-SNP command, and guest ${g.sym.name} ` +
          `is ${g.confidential ? `${g.confidential.technology ?? 'confidential'}, not SEV-SNP` : 'not confidential'}: ` +
          'KVM_SEV_SNP_LAUNCH_UPDATE fails for it',
        { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }] },
      ),
    );
    return;
  }
  for (const p of st.pinned) {
    const key = `${p.at.uri}:${p.at.span.start}`;
    if (reported.has(key)) continue;
    reported.add(key);
    out.push(
      finding(
        'sev-launch-private-pinned',
        p.at,
        `${p.device.sym.name} is realized private here, before SNP_LAUNCH_UPDATE. ` +
          'Unconfirmed: that realizing a device private makes iommufd pin ' +
          ('guest memory and map it private, guest-owned in the RMP, is the SEV-TIO ' +
            "RFC's path as reported in seed 001 (not merged). If it does, ") +
          ('SNP_LAUNCH_UPDATE fails on the first launch page (the OVMF image or an SEV ' +
            'metadata page) already guest-owned: KVM returns -EEXIST ') +
          "(sev_gmem_post_populate; its 'Failed to ensure GFN ... RMP entry is initial shared state' line is pr_debug), QEMU prints " +
          `"SNP_LAUNCH_UPDATE ret=-17 fw_error=0 ''" and exits, and guest ${g.sym.name} never starts (RULES §6.3, §6.6)`,
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
