/**
 * `check --fix`: which of the engine's fixes can be applied without asking. A fix is
 * unambiguous when its finding offers exactly one, its edits lie in one file being checked,
 * and no edit overlaps an edit of another fix (two fixes that touch the same text, or insert
 * at the same place, leave the choice to the user). The same fix offered by several findings
 * is applied once.
 */
import type { Fix, Finding, TextEdit } from '../model';

export interface ChosenFix {
  finding: Finding;
  fix: Fix;
}

export interface FixPlan {
  chosen: ChosenFix[];
  /** Edits per file, sorted and disjoint: what applying the chosen fixes writes. */
  edits: Map<string, TextEdit[]>;
  /** Findings with fixes that were not applied, and why. */
  skipped: { finding: Finding; why: string }[];
}

export function planFixes(findings: readonly Finding[], files: ReadonlySet<string>): FixPlan {
  const skipped: FixPlan['skipped'] = [];
  // One candidate per distinct fix (identical edits from several findings are one fix).
  const candidates = new Map<string, ChosenFix>();
  for (const finding of findings) {
    if (finding.fixes.length === 0) continue;
    if (finding.fixes.length > 1) {
      skipped.push({ finding, why: `${finding.fixes.length} fixes to choose from` });
      continue;
    }
    const fix = finding.fixes[0]!;
    if (fix.edits.some((e) => !files.has(e.uri))) {
      skipped.push({ finding, why: 'it edits a file that is not being checked' });
      continue;
    }
    // Each file is written on its own; a fix over several could be left half applied.
    if (fix.edits.some((e) => e.uri !== fix.edits[0]!.uri)) {
      skipped.push({ finding, why: 'it edits several files' });
      continue;
    }
    const key = JSON.stringify(fix.edits.map((e) => [e.uri, e.span.start, e.span.end, e.newText]));
    if (!candidates.has(key)) candidates.set(key, { finding, fix });
  }
  // A sweep over each file's edits in order finds every overlap: sorting makes it linear after n log n.
  const all = [...candidates.values()].flatMap((c) => c.fix.edits.map((e) => ({ c, e })));
  all.sort((a, b) => (a.e.uri < b.e.uri ? -1 : a.e.uri > b.e.uri ? 1 : a.e.span.start - b.e.span.start || a.e.span.end - b.e.span.end));
  // `reach`: the edit of the file so far that ends last, which any later overlapping edit overlaps.
  const clash = new Set<ChosenFix>();
  let reach: (typeof all)[number] | undefined;
  let prev: (typeof all)[number] | undefined;
  for (const cur of all) {
    if (reach && reach.e.uri !== cur.e.uri) reach = prev = undefined;
    if (reach && reach.c !== cur.c && cur.e.span.start < reach.e.span.end) clash.add(reach.c).add(cur.c);
    // Two edits at one place (an insertion among them) have no order to apply them in.
    if (prev && prev.c !== cur.c && prev.e.span.start === cur.e.span.start) clash.add(prev.c).add(cur.c);
    if (!reach || cur.e.span.end > reach.e.span.end) reach = cur;
    prev = cur;
  }
  const chosen = [...candidates.values()].filter((c) => !clash.has(c));
  for (const c of clash) skipped.push({ finding: c.finding, why: 'its edits overlap those of another fix' });
  const edits = new Map<string, TextEdit[]>();
  for (const { c, e } of all) if (!clash.has(c)) edits.set(e.uri, [...(edits.get(e.uri) ?? []), e]);
  return { chosen, edits, skipped };
}
