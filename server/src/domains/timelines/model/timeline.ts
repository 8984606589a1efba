/**
 * Timelines: each step's names resolve in the platform its guest is on at that step,
 * so the resolver follows `migrate` as it goes.
 */
import type * as A from '@iommu-lens/grammar';
import { REGISTER_BITS, type Register } from '../../tdisp/model/pciRegisters';
import { article, replace, type Scope } from '../../../model/scope';
import type { Guest, Platform } from '../../../model/types';
import type { ModelPart } from '../../../model/part';
import type { Xen } from '../../xen/model/types';
import type { ResolvedStep } from '../../../model/types';
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
      case 'launch-update':
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
      case 'tdisp':
      case 'config':
      case 'power':
      case 'link':
      case 'convert':
        deviceInPlay(ctx, uri, step.device, location, r);
        if (step.kind === 'config' && step.bar) ctx.count(uri, step.bar, 0n, 5n, 'BAR index');
        // NumVFs is a 16-bit register field (SR-IOV capability, offset 0x10).
        if (step.kind === 'config' && step.value && step.sriovField) ctx.count(uri, step.value, 0n, 0xffffn, 'NumVFs');
        else if (step.kind === 'config' && step.value) ctx.num(uri, step.value);
        if (step.kind === 'config' && (step.what?.text === 'command' || step.what?.text === 'devctl'))
          r.bits = registerBits(ctx, uri, step.what.text, step.bits);
        break;
      case 'balloon':
      case 'free':
        p2mTarget(ctx, uri, step.target, r);
        r.range = ctx.range(uri, step.range);
        break;
      default:
        break;
    }
    t.steps.push(r);
  }
}

/** The value a `config D command|devctl BITS` write puts in the register; bit names are case-insensitive. */
function registerBits(ctx: Scope, uri: string, register: Register, words: A.Word[]): number {
  const table = REGISTER_BITS[register];
  const names = Object.keys(table);
  let value = 0;
  for (const w of words) {
    const name = w.text.toUpperCase();
    if (Object.hasOwn(table, name)) value |= table[name]!;
    else
      ctx.unknownValue(
        uri,
        w,
        `'${w.text}' is not a ${register === 'command' ? 'Command' : 'Device Control'} register bit; known: ${names.join(' ')}`,
        () => names,
      );
  }
  return value;
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

/** `balloon T` / `free T`: a guest, or a Xen domain (`XEN.DOMAIN`, or bare if unique). */
function p2mTarget(ctx: Scope, uri: string, ref: A.Ref | undefined, r: ResolvedStep): void {
  if (!ref) return;
  if (ref.qualifier) {
    const x = ctx.global(uri, { name: ref.qualifier, span: ref.qualifier.span }, ['xen']) as Xen | undefined;
    if (!x) return;
    const dom = x.domains.get(ref.name.text);
    if (dom) {
      ctx.refer(uri, ref.name.span, dom.sym);
      r.domain = dom;
    } else ctx.unknown(uri, ref.name, `no domain '${ref.name.text}' on Xen host ${x.sym.name}`, () => x.domains.keys());
    r.platform = x.platform;
    return;
  }
  const g = ctx.globals.get(ref.name.text);
  if (g?.sym.kind === 'guest') {
    r.guest = g.entity as Guest;
    r.platform = r.guest.platform;
    ctx.refer(uri, ref.name.span, g.sym);
    return;
  }
  const domains = [...ctx.model.xens.values()].flatMap((x) =>
    x.domains.has(ref.name.text) ? [{ x, d: x.domains.get(ref.name.text)! }] : [],
  );
  if (domains.length === 1) {
    ctx.refer(uri, ref.name.span, domains[0]!.d.sym);
    r.domain = domains[0]!.d;
    r.platform = domains[0]!.x.platform;
  } else if (domains.length > 1) {
    ctx.report(
      'ambiguous-name',
      uri,
      ref.span,
      `'${ref.name.text}' is a domain of ${domains.map((e) => e.x.sym.name).join(' and ')}; write XEN.${ref.name.text}`,
      { fixes: domains.map((e) => replace(`Write ${e.x.sym.name}.${ref.name.text}`, uri, ref.span, `${e.x.sym.name}.${ref.name.text}`)) },
    );
  } else if (g) {
    ctx.report('wrong-kind', uri, ref.name.span, `'${ref.name.text}' is ${article(ctx.noun(g.sym.kind))}, not a guest or Xen domain`);
  } else {
    const candidates = () => {
      const names = ctx.workspace();
      return [...names.globalsOf(['guest']), ...names.bare()];
    };
    ctx.unknown(uri, ref.name, `unknown guest or Xen domain '${ref.name.text}'`, candidates);
  }
}

/**
 * Whether a file has a timeline step that names a device without its platform and without
 * a guest (the steps `deviceInPlay` resolves, in step with the switch in `timeline`): at
 * such a step, before any guest is in play, the device is looked up on every platform
 * (`searchedAllPlatforms`) and the host models the workspace as one piece. Read from the
 * AST alone, so the CLI knows which components could need that before modelling any.
 */
export function mayLookOnEveryPlatform(ast: A.SourceFile): boolean {
  const bare = (ref: A.Ref | undefined) => !!ref && !ref.qualifier;
  return ast.decls.some(
    (d) =>
      d.kind === 'timeline' &&
      d.steps.some((s) => {
        switch (s.kind) {
          case 'unplug':
            return !s.guest && bare(s.device);
          case 'tdisp':
          case 'config':
          case 'power':
          case 'link':
          case 'convert':
            return bare(s.device);
          default:
            return false;
        }
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
