/** Every Xen host's domain maps and balloon/free steps, as an engine (RULES §8). */
import { mergeByDeclaration, mergeMaps, type SimEngine } from '../../sim/engine';
import { runXen, type XenSimulation } from './sim/xen';

export const XEN_ENGINE: SimEngine<XenSimulation> = {
  id: 'xen',
  description: "Xen: dom0's and each domain's IOMMU maps, RMRRs, balloon and free steps.",
  needs: [],
  run: ({ model, regionsOf }, sink) => runXen(model, regionsOf, sink),
  empty: () => ({ runs: new Map(), p2m: new Map() }),
  merge: (parts) => ({ runs: mergeByDeclaration(parts.map((x) => x.runs)), p2m: mergeMaps(parts.map((x) => x.p2m)) }),
};
