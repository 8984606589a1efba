/**
 * Timelines: each step's names resolve in the platform its guest is on at that step,
 * so the resolver follows `migrate` as it goes.
 */
import type * as A from '@iommu-lens/grammar';
import { replace, type Scope, type StepResolver } from '../../../model/scope';
import type { Guest, Platform, ResolvedStep } from '../../../model/types';
import type { ModelPart, ModelSchema } from '../../../model/part';
import type { Timeline } from './types';
import { iommufdRef } from '../../../model/guest';

export function timeline(ctx: Scope, uri: string, d: A.TimelineDecl): void {
  if (!d.name) return;
  const t: Timeline = { sym: ctx.sym('timeline', uri, d.name, d.span), decl: d, steps: [] };
  if (ctx.declareGlobal(t.sym, t)) ctx.model.timelines.set(t.sym.name, t);
  /** Where each guest used so far is, step by step. */
  const location = new InPlay();
  const guest = (ref: A.Ref | undefined): Guest | undefined => {
    const g = ctx.global(uri, ref, ['guest']) as Guest | undefined;
    if (g && !location.has(g)) location.set(g, g.platform);
    return g;
  };
  for (const step of d.steps) {
    const r: ResolvedStep = { uri, step };
    switch (step.kind) {
      case 'start':
      case 'stop':
        r.guest = guest(step.guest);
        r.platform = r.guest && location.get(r.guest);
        break;
      case 'migrate':
        r.guest = guest(step.guest);
        r.platform = r.guest && location.get(r.guest);
        r.target = ctx.global(uri, step.to, ['platform']) as Platform | undefined;
        // An unresolved target leaves the guest nowhere known: later lookups stay silent.
        if (r.guest) location.set(r.guest, r.target);
        break;
      case 'hotplug':
        r.guest = guest(step.guest);
        r.platform = r.guest && location.get(r.guest);
        r.device = ctx.device(uri, step.device, r.platform);
        r.range = ctx.range(uri, step.dmaWindow);
        if (r.guest && step.iommufd) r.iommufd = iommufdRef(ctx, uri, r.guest, step.iommufd);
        break;
      case 'unplug':
        if (step.guest) {
          r.guest = guest(step.guest);
          r.platform = r.guest && location.get(r.guest);
          r.device = ctx.device(uri, step.device, r.platform);
        } else {
          deviceInPlay(ctx, uri, step.device, location, r);
        }
        break;
      default: {
        // A domain's step: its guest or the device it acts on, then what else it names.
        const resolver = ctx.schema.steps.get(step.kind) as StepResolver | undefined;
        const g = resolver?.guest?.(step);
        if (g) {
          r.guest = guest(g);
          r.platform = r.guest && location.get(r.guest);
        }
        if (resolver?.device) deviceInPlay(ctx, uri, resolver.device(step), location, r);
        resolver?.resolve?.(ctx, uri, step, r);
        break;
      }
    }
    t.steps.push(r);
  }
}

/**
 * Where the timeline's guests are at the current step, and how many on each platform, so a
 * step asks which platforms are in play without visiting every guest (thousands of guests
 * and device steps in one timeline cost guests × steps).
 */
class InPlay {
  private readonly where = new Map<Guest, Platform | undefined>();
  private readonly count = new Map<Platform, number>();

  has(g: Guest): boolean {
    return this.where.has(g);
  }

  get(g: Guest): Platform | undefined {
    return this.where.get(g);
  }

  set(g: Guest, p: Platform | undefined): void {
    const before = this.where.get(g);
    if (before) {
      const n = this.count.get(before)! - 1;
      if (n) this.count.set(before, n);
      else this.count.delete(before);
    }
    this.where.set(g, p);
    if (p) this.count.set(p, (this.count.get(p) ?? 0) + 1);
  }

  get size(): number {
    return this.count.size;
  }

  platforms(): Platform[] {
    return [...this.count.keys()];
  }

  holds(p: Platform): boolean {
    return this.count.has(p);
  }
}

/** In messages and fixes, the platforms named when a device name is ambiguous. */
const AMBIGUOUS_NAMED = 4;

/**
 * A device named by a step without a guest: it resolves among the platforms the
 * timeline's guests are on at this step (all platforms if none is in play yet).
 */
function deviceInPlay(ctx: Scope, uri: string, ref: A.Ref | undefined, location: InPlay, r: ResolvedStep): void {
  if (!ref) return;
  if (ref.qualifier) {
    r.device = ctx.device(uri, ref, undefined);
    r.platform = r.device ? ctx.model.platforms.get(r.device.sym.container!) : undefined;
    return;
  }
  if (!location.size) ctx.searchedAllPlatforms = true;
  // The platforms in play that have the device, in declaration order: whichever of the two
  // lists is shorter is filtered.
  const withName = ctx.platformsWithDevice(ref.name.text);
  const having = !location.size
    ? [...withName]
    : location.size <= withName.length
      ? ctx.inDeclarationOrder(location.platforms().filter((p) => p.devices.has(ref.name.text)))
      : withName.filter((p) => location.holds(p));
  if (having.length === 1) {
    r.platform = having[0]!;
    r.device = ctx.device(uri, ref, r.platform);
  } else if (having.length > 1) {
    const names = having.map((p) => p.sym.name);
    const shown = names.slice(0, AMBIGUOUS_NAMED);
    const more = names.length > shown.length ? ` (and ${names.length - shown.length} more)` : '';
    ctx.report(
      'ambiguous-name',
      uri,
      ref.span,
      `'${ref.name.text}' is a device of ${shown.join(' and ')}${more}, all in play at this step; ` +
        `write ${shown.map((n) => `${n}.${ref.name.text}`).join(' or ')}${more ? ' or another' : ''}`,
      {
        related: having
          .slice(0, AMBIGUOUS_NAMED)
          .map((p) => ({ uri: p.sym.uri, span: p.devices.get(ref.name.text)!.sym.nameSpan, message: `${p.sym.name}.${ref.name.text}` })),
        fixes: shown.map((n) => replace(`Write ${n}.${ref.name.text}`, uri, ref.span, `${n}.${ref.name.text}`)),
      },
    );
  } else {
    const inPlay = location.platforms();
    const names = inPlay
      .slice(0, AMBIGUOUS_NAMED)
      .map((p) => p.sym.name)
      .join(' or ');
    const more = inPlay.length > AMBIGUOUS_NAMED ? ` (or ${inPlay.length - AMBIGUOUS_NAMED} more)` : '';
    const where = inPlay.length ? `on ${names}${more}, where this timeline's guests are` : 'on any platform';
    const candidates = () => (inPlay.length ? inPlay : [...ctx.model.platforms.values()]).flatMap((p) => [...p.devices.keys()]);
    ctx.unknown(uri, ref.name, `no device '${ref.name.text}' ${where}`, candidates, inPlay.length ? ctx.elsewhereHint(ref.name.text) : '');
  }
}

/**
 * Whether a file has a timeline step that names a device without its platform and without
 * a guest (the steps `deviceInPlay` resolves: `unplug` without a guest, and the domains' steps
 * with a `device`): at
 * such a step, before any guest is in play, the device is looked up on every platform
 * (`searchedAllPlatforms`) and the host models the workspace as one piece. Read from the
 * AST alone, so the CLI knows which components could need that before modelling any.
 */
export function mayLookOnEveryPlatform(ast: A.SourceFile, schema: ModelSchema): boolean {
  const bare = (ref: A.Ref | undefined) => !!ref && !ref.qualifier;
  return ast.decls.some(
    (d) =>
      d.kind === 'timeline' &&
      d.steps.some((s) => {
        if (s.kind === 'unplug') return !s.guest && bare(s.device);
        const device = (schema.steps.get(s.kind) as StepResolver | undefined)?.device;
        return !!device && bare(device(s));
      }),
  );
}

export const TIMELINES_MODEL: ModelPart = {
  kinds: { timeline: { noun: 'timeline', global: { plural: 'timelines' } } },
  maps: ['timelines'],
  // Steps follow guests to their platforms and name Xen domains: timelines resolve last.
  passes: { last: { decls: { timeline } } },
  mayLookEverywhere: mayLookOnEveryPlatform,
};
