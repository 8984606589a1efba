/**
 * Minimal types for railroad-diagrams 1.0 (the package ships none): only what
 * scripts/docs.ts uses. Every constructor also works without `new`.
 */
declare module 'railroad-diagrams' {
  /** A diagram element; `toString()` of a `Diagram` is the SVG text. */
  export interface RailroadItem {
    toString(): string;
  }
  interface RailroadDiagrams {
    Diagram(...items: RailroadItem[]): RailroadItem;
    Sequence(...items: RailroadItem[]): RailroadItem;
    /** `normal` is the index of the alternative drawn on the main line. */
    Choice(normal: number, ...items: RailroadItem[]): RailroadItem;
    Optional(item: RailroadItem, skip?: 'skip'): RailroadItem;
    OneOrMore(item: RailroadItem, repeat?: RailroadItem): RailroadItem;
    ZeroOrMore(item: RailroadItem, repeat?: RailroadItem, skip?: 'skip'): RailroadItem;
    Terminal(text: string): RailroadItem;
    NonTerminal(text: string): RailroadItem;
    Comment(text: string): RailroadItem;
    Skip(): RailroadItem;
  }
  const rr: RailroadDiagrams;
  export default rr;
}
