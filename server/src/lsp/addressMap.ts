/**
 * The `iommuLens/addressMap` request: the address map of a guest or platform (named, or
 * the one at the cursor) as an SVG, and the line of every clickable bar as an LSP range,
 * so the editor's webview can reveal the source of what was clicked.
 */
import type { Connection } from 'vscode-languageserver';
import type { Analysis } from '../ide';
import { addressMap, addressMapTargetAt, mapSources, type AddressMapTarget } from '../ide/addressMap';
import { renderSvg } from '../ide/addressMapSvg';
import type { RequestGuard } from './guard';
import { offsetAt } from './params';
import { ADDRESS_MAP_REQUEST, type AddressMapParams, type AddressMapResult } from './protocol';

/** `guard` wraps the handler as the server wraps all of its own (guard.ts). */
export function registerAddressMap(connection: Connection, current: () => Analysis | undefined, guard: RequestGuard): void {
  connection.onRequest(
    ADDRESS_MAP_REQUEST,
    guard(ADDRESS_MAP_REQUEST, (params: AddressMapParams): AddressMapResult | null => {
      const a = current();
      return a && params && typeof params.uri === 'string' ? addressMapResponse(a, params) : null;
    }),
  );
}

/**
 * Answers per analysis and target: the panel follows the cursor and asks on every pause,
 * and while no file changes a map drawn once is the same map.
 */
const answers = new WeakMap<Analysis, Map<string, AddressMapResult | null>>();

/** The answer for one request: null when the cursor is on no guest or platform, or the name is unknown. */
export function addressMapResponse(a: Analysis, params: AddressMapParams): AddressMapResult | null {
  let target: AddressMapTarget | undefined;
  if (typeof params.guest === 'string') target = { guest: params.guest };
  else if (typeof params.platform === 'string') target = { platform: params.platform };
  else {
    const lines = a.lineIndex(params.uri);
    target = addressMapTargetAt(a, params.uri, params.position ? offsetAt(lines, params.position) : 0);
  }
  if (!target) return null;
  let known = answers.get(a);
  if (!known) answers.set(a, (known = new Map()));
  const key = 'guest' in target ? `guest ${target.guest}` : `platform ${target.platform}`;
  let answer = known.get(key);
  if (answer === undefined) known.set(key, (answer = draw(a, target)));
  return answer;
}

function draw(a: Analysis, target: AddressMapTarget): AddressMapResult | null {
  const map = addressMap(a, target);
  if (!map) return null;
  const sources = mapSources(map);
  const targets = sources.list.map((s) => ({ id: s.id, uri: s.uri, range: a.lineIndex(s.uri).range(s.span) }));
  return { title: map.title, svg: renderSvg(map, {}, sources), targets };
}
