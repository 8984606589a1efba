/**
 * The TDISP interface state machine (PCIe 6.x §11.3; RULES §5.1–5.2) as tables: which
 * request each `tdisp` message is, in which states the device accepts it and where it
 * takes the TDI. Pure: the timeline engine (confidential.ts) keeps the states.
 */
import type * as A from '@iommu-lens/grammar';

export type TdiState = 'CONFIG_UNLOCKED' | 'CONFIG_LOCKED' | 'RUN' | 'ERROR';

export const TDI_STATES: readonly TdiState[] = ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN', 'ERROR'];

export type TdispMessage = 'lock' | 'start' | 'stop' | 'report' | 'bind-p2p' | 'unbind-p2p' | 'set-mmio-attr';

export interface MessageRule {
  /** The TDISP request, as the spec names it, and its request code. */
  request: string;
  code: number;
  /** The states in which the device accepts it; in any other it answers TDISP_ERROR. */
  accepted: readonly TdiState[];
  /** Where an accepted request takes the TDI; none: it stays. */
  next?: TdiState;
}

export const MESSAGES: Readonly<Record<TdispMessage, MessageRule>> = {
  lock: { request: 'LOCK_INTERFACE_REQUEST', code: 0x83, accepted: ['CONFIG_UNLOCKED'], next: 'CONFIG_LOCKED' },
  report: { request: 'GET_DEVICE_INTERFACE_REPORT', code: 0x84, accepted: ['CONFIG_LOCKED', 'RUN'] },
  // The TSM sends START with the nonce the last LOCK returned, so INVALID_NONCE cannot arise here.
  start: { request: 'START_INTERFACE_REQUEST', code: 0x86, accepted: ['CONFIG_LOCKED'], next: 'RUN' },
  stop: { request: 'STOP_INTERFACE_REQUEST', code: 0x87, accepted: TDI_STATES, next: 'CONFIG_UNLOCKED' },
  'bind-p2p': { request: 'BIND_P2P_STREAM_REQUEST', code: 0x88, accepted: ['RUN'] },
  'unbind-p2p': { request: 'UNBIND_P2P_STREAM_REQUEST', code: 0x89, accepted: ['RUN'] },
  'set-mmio-attr': { request: 'SET_MMIO_ATTRIBUTE_REQUEST', code: 0x8a, accepted: ['RUN'] },
};

/** TDISP_ERROR's ERROR_CODE for a request the TDI's state does not allow. */
export const INVALID_INTERFACE_STATE = 0x0004;

export function isTdispMessage(w: A.Word | undefined): w is A.Word & { text: TdispMessage } {
  return !!w && Object.hasOwn(MESSAGES, w.text);
}

/** CONFIG_LOCKED or RUN: the device's configuration is frozen (RULES §5.1). */
export function isLocked(s: TdiState): boolean {
  return s === 'CONFIG_LOCKED' || s === 'RUN';
}

export type MessageOutcome = { ok: true; next: TdiState } | { ok: false; errorCode: number };

/** The device's answer to a message sent in state `s`. */
export function sendMessage(s: TdiState, m: TdispMessage): MessageOutcome {
  const rule = MESSAGES[m];
  return rule.accepted.includes(s) ? { ok: true, next: rule.next ?? s } : { ok: false, errorCode: INVALID_INTERFACE_STATE };
}
