/**
 * The WHEP worker thread: every viewer's werift peer connection and the fan-out of the
 * `webrtc` outputs' frames to them ({@link WhepChannel}). The main thread sends it offers and
 * access units (webrtc/whep-protocol.ts) and gets answers, closed sessions and counters back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import type { FromWhepWorker, ToWhepWorker, WhepChannelStats, WhepWorkerData } from './whep-protocol.js';
import { WhepChannel } from './whep-channel.js';
import { WhepViewer, type ViewerLog } from './whep-viewer.js';

/** How often the counters go to the main thread, ms. */
const STATS_MS = 1000;

const port = parentPort!;
const { ice } = workerData as WhepWorkerData;
const post = (m: FromWhepWorker): void => port.postMessage(m);
const log: ViewerLog = { info: (obj, msg) => post({ type: 'log', level: 'info', obj, msg }) };

/** Each output's channel and its counters. */
const channels = new Map<string, { channel: WhepChannel; droppedFrames: number }>();

function entry(outputId: string): { channel: WhepChannel; droppedFrames: number } {
  let e = channels.get(outputId);
  if (!e) {
    const made: { channel: WhepChannel; droppedFrames: number } = {
      channel: new WhepChannel(outputId, { sent: () => undefined, dropped: () => made.droppedFrames++ }),
      droppedFrames: 0,
    };
    e = made;
    channels.set(outputId, e);
  }
  return e;
}

function stats(): WhepChannelStats[] {
  return [...channels.values()].map(({ channel, droppedFrames }) => ({
    outputId: channel.outputId,
    sentBytes: channel.sentBytes,
    droppedFrames,
    viewers: [...channel.viewers.values()].map((v) => ({
      id: v.id,
      sentFrames: v.sentFrames,
      droppedFrames: v.droppedFrames,
      sendDelayMsSum: v.sendDelayMsSum,
    })),
  }));
}

async function open(req: number, outputId: string, offer: string): Promise<void> {
  try {
    const { viewer, answer } = await WhepViewer.answer(offer, ice, log);
    const { channel } = entry(outputId);
    channel.add(viewer);
    viewer.onClosed = (reason) => {
      channel.remove(viewer.id);
      post({ type: 'closed', outputId, sessionId: viewer.id, reason });
    };
    post({ type: 'opened', req, sessionId: viewer.id, answer });
  } catch (err) {
    const e = err instanceof AppError ? err : new AppError('SM_ERR_WHEP_NOT_SDP', `The SDP offer could not be answered: ${String(err)}`);
    post({ type: 'refused', req, code: e.code, message: e.message });
  }
}

port.on('message', (m: ToWhepWorker) => {
  switch (m.type) {
    case 'open':
      void open(m.req, m.outputId, m.offer);
      break;
    case 'close':
      channels.get(m.outputId)?.channel.viewers.get(m.sessionId)?.close('closed by the client');
      break;
    case 'au':
      entry(m.outputId).channel.push({
        data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        pts90k: m.pts90k,
        key: m.key,
        // The same moment on this thread's clock.
        madeAt: m.at - performance.timeOrigin,
      });
      break;
    case 'reset':
      entry(m.outputId).channel.reset();
      break;
    case 'drop': {
      const e = channels.get(m.outputId);
      channels.delete(m.outputId);
      e?.channel.closeAll('output removed');
      break;
    }
    case 'stats':
      post({ type: 'stats', req: m.req, channels: stats() });
      break;
    case 'closeAll':
      for (const e of channels.values()) e.channel.closeAll('server stopping');
      break;
  }
});

setInterval(() => post({ type: 'stats', channels: stats() }), STATS_MS).unref();
