/** The timeline runner as an engine of the simulator (RULES §1-6 step by step). */
import type { Timeline } from './model/types';
import { mergeByDeclaration, type SimEngine } from '../../sim/engine';
import { runTimelines, type TimelineRun } from './sim/runner';

export const TIMELINES_ENGINE: SimEngine<Map<Timeline, TimelineRun>> = {
  id: 'timelines',
  description: 'Timelines: start, stop, migrate, hotplug, TDISP state machines, SEV-TIO steps.',
  needs: [],
  run: ({ model, regionsOf }, sink) => runTimelines(model, regionsOf, sink),
  empty: () => new Map(),
  merge: mergeByDeclaration,
};
