/**
 * The timeline's grammar: the `timeline` declaration and the steps that move guests and
 * devices (start, stop, migrate, hotplug, unplug). Its body takes every domain's steps.
 */
import type { Assembled, Braces, Node, RangeLit, Ref, Word } from '../nodes';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, nodes, span } from '../cst';
import { kw } from '../tokens';

export interface TimelineDecl extends Node {
  kind: 'timeline';
  name?: Word;
  braces?: Braces;
  /** Every domain's steps (`Step`, which `ast.ts` assembles). */
  steps: Assembled['step'][];
}
export type GuestStep = Node & { kind: 'start' | 'stop'; guest?: Ref };
export type MigrateStep = Node & { kind: 'migrate'; guest?: Ref; to?: Ref };
export type HotplugStep = Node & { kind: 'hotplug'; device?: Ref; guest?: Ref; mode?: Word; dmaWindow?: RangeLit; iommufd?: Word };
export type UnplugStep = Node & { kind: 'unplug'; device?: Ref; guest?: Ref };

const rules = (Base: ParserClass) =>
  class TimelineRules extends Base {
    public timelineDecl = this.RULE('timelineDecl', () => {
      this.CONSUME(kw('timeline'));
      this.SUBRULE(this.name);
      this.SUBRULE(this.timelineBody);
    });

    public startStep = this.RULE('startStep', () => {
      this.CONSUME(kw('start'));
      this.SUBRULE(this.ref);
    });
    public stopStep = this.RULE('stopStep', () => {
      this.CONSUME(kw('stop'));
      this.SUBRULE(this.ref);
    });
    public migrateStep = this.RULE('migrateStep', () => {
      this.CONSUME(kw('migrate'));
      this.SUBRULE(this.ref);
      this.CONSUME(kw('to'));
      this.SUBRULE2(this.ref);
    });
    public hotplugStep = this.RULE('hotplugStep', () => {
      this.CONSUME(kw('hotplug'));
      this.SUBRULE(this.ref);
      this.CONSUME(kw('into'));
      this.SUBRULE2(this.ref);
      this.OPTION(() => {
        this.CONSUME(kw('as'));
        this.oneOf('assignMode');
      });
      this.OPTION2(() => this.SUBRULE(this.dmaWindow));
      // QEMU's `device_add vfio-pci,...,iommufd=NAME`: the hot-added device joins that instance (RULES §6.6).
      this.OPTION3(() => this.SUBRULE(this.iommufdUse));
    });
    public unplugStep = this.RULE('unplugStep', () => {
      this.CONSUME(kw('unplug'));
      this.SUBRULE(this.ref);
      this.OPTION(() => {
        this.CONSUME(kw('from'));
        this.SUBRULE2(this.ref);
      });
    });

    /** Every domain's steps, in the registry's order (this domain's first). */
    public timelineBody = this.block('timelineBody', () => this.placed('steps'));
  };

export const TIMELINES_GRAMMAR: GrammarContribution<
  Record<never, never>,
  { declarations: TimelineDecl; steps: GuestStep | MigrateStep | HotplugStep | UnplugStep },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'timelines',
  keywords: { declarations: ['timeline'], statements: ['migrate', 'hotplug', 'unplug'], values: ['into'] },
  enums: {},
  rules,
  places: { declarations: ['timelineDecl'], steps: ['startStep', 'stopStep', 'migrateStep', 'hotplugStep', 'unplugStep'] },
  build: {
    timelineDecl: (n, b): TimelineDecl => {
      const body = node(n.children, 'timelineBody');
      return {
        kind: 'timeline',
        span: span(n),
        name: b.name(node(n.children, 'name')),
        braces: b.braces(body, b.keywordSpan(n, 'timeline')),
        steps: body ? b.items(body, 'timelineBody', (i) => b.build(i) as Assembled['step'] | undefined) : [],
      };
    },
    startStep: (n, b): GuestStep => ({ kind: 'start', span: span(n), guest: b.ref(node(n.children, 'ref')) }),
    stopStep: (n, b): GuestStep => ({ kind: 'stop', span: span(n), guest: b.ref(node(n.children, 'ref')) }),
    migrateStep: (n, b): MigrateStep => {
      const refs = nodes(n.children, 'ref');
      return { kind: 'migrate', span: span(n), guest: b.ref(refs[0]), to: b.ref(refs[1]) };
    },
    hotplugStep: (n, b): HotplugStep => {
      const c = n.children;
      const refs = nodes(c, 'ref');
      return {
        kind: 'hotplug',
        span: span(n),
        device: b.ref(refs[0]),
        guest: b.ref(refs[1]),
        mode: b.enumValue(c, 'assignMode'),
        dmaWindow: b.dmaWindow(c),
        iommufd: b.iommufdUse(c),
      };
    },
    unplugStep: (n, b): UnplugStep => {
      const refs = nodes(n.children, 'ref');
      return { kind: 'unplug', span: span(n), device: b.ref(refs[0]), guest: b.ref(refs[1]) };
    },
  },
};
