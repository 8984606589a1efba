/** SMMU CMDQV: every VINTF and where each command goes, as an engine (RULES §9). */
import { mergeByDeclaration, mergeMaps, type SimEngine } from '../../sim/engine';
import { runCmdqv, type CmdqvSimulation } from './sim/cmdqv';

export const CMDQV_ENGINE: SimEngine<CmdqvSimulation> = {
  id: 'cmdqv',
  description: 'SMMUv3 CMDQV: VINTF command batches, stream IDs, HYP_OWN.',
  needs: [],
  run: ({ model }, sink) => runCmdqv(model, sink),
  empty: () => ({ vintfs: new Map(), routes: new Map() }),
  merge: (parts) => ({ vintfs: mergeByDeclaration(parts.map((x) => x.vintfs)), routes: mergeMaps(parts.map((x) => x.routes)) }),
};
