/**
 * What the grammar allows where, read from the parser's own grammar (chevrotain GAST),
 * so error messages, docs and completion never drift from the parser.
 * GAST nodes are recognised by shape: `instanceof` fails when a bundler or loader
 * ends up with two copies of chevrotain's classes.
 */
import type { IProduction, Rule } from 'chevrotain';
import { parserInstance } from './parser';

type Prod = IProduction & { nonTerminalName?: string; terminalType?: { name: string }; definition?: Prod[] };

const isNonTerminal = (p: Prod) => typeof p.nonTerminalName === 'string';
const isTerminal = (p: Prod) => p.terminalType !== undefined;
const isAlternation = (p: Prod) => p.constructor.name === 'Alternation';

let cache: Map<string, string[]> | undefined;

/** For `file` and each block rule (`platformBody`, ...): the keywords its statements start with. */
export function statementKeywordsByBlock(): ReadonlyMap<string, readonly string[]> {
  if (cache) return cache;
  const rules = new Map<string, Rule>(Object.entries(parserInstance().getGAstProductions()));
  cache = new Map();
  for (const [name, rule] of rules) {
    if (name !== 'file' && !name.endsWith('Body')) continue;
    const words = new Set<string>();
    const visit = (p: Prod): void => {
      if (isNonTerminal(p)) {
        if (p.nonTerminalName === 'unknownStatement' || p.nonTerminalName === 'strayBlock') return;
        for (const w of firstKeywords(rules.get(p.nonTerminalName!)!, rules)) words.add(w);
      } else if (!isTerminal(p) && p.definition) {
        p.definition.forEach(visit);
      }
    };
    (rule.definition as Prod[]).forEach(visit);
    cache.set(name, [...words]);
  }
  return cache;
}

/** The keywords a statement rule can start with. */
function firstKeywords(rule: Rule, rules: Map<string, Rule>): string[] {
  const first = rule.definition[0] as Prod | undefined;
  if (!first) return [];
  if (isTerminal(first)) return isKeywordName(first.terminalType!.name) ? [first.terminalType!.name] : [];
  if (isNonTerminal(first)) return firstKeywords(rules.get(first.nonTerminalName!)!, rules);
  if (isAlternation(first)) {
    return first.definition!.flatMap((alt) => {
      const t = alt.definition?.[0];
      return t && isTerminal(t) && isKeywordName(t.terminalType!.name) ? [t.terminalType!.name] : [];
    });
  }
  return [];
}

function isKeywordName(name: string): boolean {
  return !['Word', 'Number', 'Bdf', 'Newline', 'Semi', 'Comma', 'Dot', 'DotDot', 'LBrace', 'RBrace'].includes(name);
}
