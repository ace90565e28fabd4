/**
 * Messages between the server's main thread and the WHEP worker (webrtc/whep-worker.ts), which
 * owns every viewer's peer connection: WebRTC's per-packet work (SRTP, RTCP, retransmissions)
 * and its garbage stay off the thread that runs the frame clock.
 */
import type { WhepIceSettings } from './whep-viewer.js';

/** What the worker is started with. */
export interface WhepWorkerData {
  ice: WhepIceSettings;
}

/** Main thread -> worker. */
export type ToWhepWorker =
  /** Answer an offer (already checked by `checkOffer`) for a viewer of `outputId`. */
  | { type: 'open'; req: number; outputId: string; offer: string }
  /** End a session (a DELETE). */
  | { type: 'close'; outputId: string; sessionId: string }
  /** One access unit of the output's encode; `at`: when it came in (wall ms, `performance.timeOrigin + now`). */
  | { type: 'au'; outputId: string; data: Uint8Array; pts90k: number; key: boolean; at: number }
  /** A new encode starts for the output. */
  | { type: 'reset'; outputId: string }
  /** The output is gone: close its viewers. */
  | { type: 'drop'; outputId: string }
  /** Report the counters now (answered by `stats` with the same `req`). */
  | { type: 'stats'; req: number }
  /** Close every viewer (the server stops). */
  | { type: 'closeAll' };

/** One viewer's counters. */
export interface WhepViewerStats {
  id: string;
  sentFrames: number;
  droppedFrames: number;
  /** Sum of ms from a frame's arrival from the encode to its sending to this viewer. */
  sendDelayMsSum: number;
}

/** One output's counters: payload bytes sent and frames dropped for lagging viewers, in all; its viewers. */
export interface WhepChannelStats {
  outputId: string;
  sentBytes: number;
  droppedFrames: number;
  viewers: WhepViewerStats[];
}

/** Worker -> main thread. */
export type FromWhepWorker =
  | { type: 'opened'; req: number; sessionId: string; answer: string }
  | { type: 'refused'; req: number; code: string; message: string }
  /** A viewer closed (DELETE, its connection failed or never came, its output went away). */
  | { type: 'closed'; outputId: string; sessionId: string; reason: string }
  /** The counters, each second and when asked (`req`). */
  | { type: 'stats'; req?: number; channels: WhepChannelStats[] }
  /** A line for the server's log. */
  | { type: 'log'; level: 'info' | 'warn'; obj: Record<string, unknown>; msg: string };
