/**
 * Names for generated declarations: reduced to the language's letters (so no outside text
 * can add syntax) and unique within one namespace.
 */

/** A name the language accepts, made from any text (a file name, a libvirt domain name). */
export function safeName(s: string, fallback = 'imported'): string {
  const n = s
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[^A-Za-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return n || fallback;
}

/**
 * Unique names: a base's first use is the base itself, later ones `base-2`, `base-3`, ...
 * Each base remembers its next number, so n names with one base cost n probes, not n².
 */
export class Names {
  private readonly used = new Set<string>();
  private readonly next = new Map<string, number>();

  take(base: string): string {
    let i = this.next.get(base) ?? 2;
    let name = base;
    while (this.used.has(name)) name = `${base}-${i++}`;
    this.next.set(base, i);
    this.used.add(name);
    return name;
  }
}

/** `0000:00:14.0` → `dev-0000-00-14-0`. */
export function deviceNameOf(bdf: string): string {
  return `dev-${bdf.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}`;
}
