import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { MediaStatus } from '../../../shared/media.js';
import type { WhoAmI } from '../../../shared/responses.js';
import type { AssetMeta } from '../../../shared/state-doc.js';
import type { PreviewQuality, ServerMessage } from '../../../shared/ws-messages.js';
import { Api, ApiError, explain } from './api.js';
import { LiveLink, type LinkState, type StatusBody } from './connection.js';
import { runLayerAction } from './layer-actions.js';
import { LayersView, type LayerAction } from './layers-view.js';
import { PreviewView } from './preview.js';
import { StatusView, type StatusModel } from './status-view.js';
import { StudioView } from './studio-view.js';
import { AssetsView } from './assets-view.js';
import { ShowPanels } from './show.js';
import type { PageContext } from './dom.js';
import { setRole } from './role.js';
import { loadToken, saveToken } from './token.js';
import { WebrtcView } from './webrtc-view.js';

/** The dashboard page: wires the live link, the REST client and the views together. */

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from index.html`);
  return e as T;
};

/** How often the video layers' status is read while one is shown, ms (WS `mediaUpdate` brings each change at once). */
const MEDIA_POLL_MS = 5000;

let token = loadToken();
const api = new Api(() => token);
const layers = new Map<string, Layer>();
const model: StatusModel = { stream: null, viewers: null, bitrateBps: null, outputs: [] };

const messageEl = $<HTMLParagraphElement>('message');
const tokenForm = $<HTMLFormElement>('token-form');
const tokenInput = $<HTMLInputElement>('token');
const linkEl = $<HTMLSpanElement>('link');
const roleEl = $<HTMLSpanElement>('role');
const preview = new PreviewView($<HTMLCanvasElement>('preview'), $<HTMLSpanElement>('preview-caption'));
const statusView = new StatusView($<HTMLElement>('stats'), $<HTMLSpanElement>('stream-state'));
const layersView = new LayersView($<HTMLOListElement>('layers'), (a) => act(a));

/** Shows a message under the header (`kind` styles it); an empty text hides it. */
function say(text: string, kind: 'error' | 'info' = 'error'): void {
  messageEl.textContent = text;
  messageEl.dataset['kind'] = kind;
  messageEl.hidden = !text;
}

function fail(err: unknown): void {
  say(explain(err));
  if (err instanceof ApiError && err.status === 401) showTokenForm();
}

function showTokenForm(): void {
  tokenForm.hidden = false;
  if (document.activeElement !== tokenInput) tokenInput.value = token ?? '';
}

const ctx: PageContext = { api, say, fail };
const renderLayers = (): void => {
  const list = [...layers.values()];
  layersView.render(list);
  show.layers(list);
};
const renderStatus = (): void => {
  statusView.render(model);
  show.state(model.stream);
};
const addOne = (l: Layer): void => {
  layers.set(l.id, l);
  renderLayers();
};
const show = new ShowPanels(ctx, {
  setLayers: (list) => setLayers(list),
  setLayer: addOne,
  setState: (state) => {
    model.stream = state;
    renderStatus();
  },
  // Unknown (no answer yet) counts as live: a config change then asks first.
  isLive: () => model.stream?.isLive ?? true,
});

function setLayers(list: Layer[]): void {
  layers.clear();
  for (const l of list) layers.set(l.id, l);
  renderLayers();
}

/** A video layer's source status changed (a WS message or a poll). */
function setMedia(id: string, media: MediaStatus | undefined): void {
  const l = layers.get(id);
  if (!l || l.content.type !== 'video' || !media) return;
  layers.set(id, { ...l, media });
  renderLayers();
}

function applyStatus(body: StatusBody): void {
  const { outputs, ...stream } = body;
  model.stream = stream;
  model.outputs = outputs;
  renderStatus();
}

/**
 * Reads the token's role (`GET /stream/whoami`): the controls it may not use are disabled (role.ts).
 * A refused token: unknown, nothing locked (every request then says 401 itself).
 */
async function readRole(): Promise<void> {
  try {
    const me = await api.request<WhoAmI>('GET', '/whoami');
    setRole(me.role);
    roleEl.textContent = me.auth ? `${me.role} (${me.name})` : 'admin (auth off)';
    roleEl.hidden = false;
  } catch {
    setRole(null);
    roleEl.hidden = true;
  }
}

/** Reads the role, status, layers and assets over HTTP (at start, after a token change, while the socket is down). */
async function refresh(): Promise<void> {
  void readRole();
  try {
    const [status, list, assets] = await Promise.all([
      api.request<StatusBody>('GET', '/status'),
      api.request<{ layers: Layer[] }>('GET', '/layers'),
      api.request<{ assets: AssetMeta[] }>('GET', '/assets'),
    ]);
    applyStatus(status);
    setLayers(list.layers);
    assetsView.show(assets.assets);
    void webrtc.refresh();
    await show.refresh();
    if (messageEl.dataset['kind'] === 'error' && (messageEl.textContent ?? '').includes('401')) say('');
  } catch (err) {
    fail(err);
  }
}

function onMessage(msg: ServerMessage): void {
  show.message(msg);
  switch (msg.type) {
    case 'stateUpdate':
      model.stream = msg.payload.stream;
      if (msg.payload.layers) setLayers(msg.payload.layers);
      renderStatus();
      break;
    case 'layerUpdate':
      if (msg.payload.removed) layers.delete(msg.payload.id);
      else if (msg.payload.layer) layers.set(msg.payload.id, msg.payload.layer);
      renderLayers();
      break;
    case 'mediaUpdate':
    case 'mediaEnded':
      setMedia(msg.payload.layerId, msg.payload.media);
      break;
    case 'layerVisibility': {
      const l = layers.get(msg.payload.id);
      if (l) layers.set(l.id, { ...l, visible: msg.payload.visible });
      renderLayers();
      break;
    }
    case 'metricsUpdate':
      model.viewers = msg.payload.viewers;
      model.bitrateBps = msg.payload.bitrateBps;
      renderStatus();
      break;
    case 'outputUpdate': {
      const p = msg.payload;
      const output = {
        id: p.id,
        url: p.url,
        state: p.state,
        restarts: p.restarts,
        lastError: p.lastError,
        bytes: p.bytes,
        bitrateBps: p.bitrateBps,
        file: p.file,
      };
      model.outputs = [...model.outputs.filter((o) => o.id !== output.id), output];
      renderStatus();
      show.output(output);
      break;
    }
    case 'layerError':
      say(
        msg.payload.message === null
          ? `Layer ${msg.payload.id} renders again.`
          : `Layer ${msg.payload.id} fails to render: ${msg.payload.message}`,
        msg.payload.message === null ? 'info' : 'error',
      );
      break;
    case 'error':
      say(`${msg.payload.message} (${msg.payload.code})`);
      break;
    default:
      break;
  }
}

function onLinkState(state: LinkState, info: { attempt: number; retryInMs: number | null }): void {
  linkEl.dataset['state'] = state;
  linkEl.textContent =
    state === 'connected'
      ? 'connected'
      : state === 'reconnecting'
        ? `reconnecting in ${((info.retryInMs ?? 0) / 1000).toFixed(1)} s (attempt ${info.attempt}) · polling status`
        : 'connecting…';
  if (state === 'connected') void refresh();
}

const link = new LiveLink(
  api,
  () => token,
  {
    state: onLinkState,
    message: onMessage,
    frame: (jpeg, frame) => preview.show(jpeg, frame),
    polled: applyStatus,
    pollError: (err) => fail(err),
  },
  $<HTMLSelectElement>('quality').value as PreviewQuality,
);

const webrtc = new WebrtcView(
  {
    row: $<HTMLDivElement>('webrtc'),
    select: $<HTMLSelectElement>('webrtc-output'),
    play: $<HTMLButtonElement>('webrtc-play'),
    caption: $<HTMLSpanElement>('webrtc-caption'),
    video: $<HTMLVideoElement>('webrtc-video'),
  },
  api,
  () => token,
  fail,
);

const studio = new StudioView(
  {
    toggle: $<HTMLInputElement>('studio-mode'),
    panel: $<HTMLDivElement>('studio-panel'),
    canvas: $<HTMLCanvasElement>('studio-preview'),
    caption: $<HTMLSpanElement>('studio-caption'),
    duration: $<HTMLInputElement>('take-duration'),
    tbar: $<HTMLInputElement>('take-tbar'),
    take: $<HTMLButtonElement>('take'),
    cut: $<HTMLButtonElement>('cut'),
  },
  api,
  () => token,
  (answer) => {
    setLayers(answer.program);
    show.taken();
    say(
      `Took the preview to program (${answer.transition}${answer.transition === 'crossfade' ? ` ${answer.durationMs} ms` : ''}).`,
      'info',
    );
  },
  fail,
);

/** Runs one layer action; the answer updates the list at once (the socket's update follows). */
async function act(a: LayerAction): Promise<void> {
  try {
    const { changed, deleted } = await runLayerAction(api, [...layers.values()], a);
    if (deleted) layers.delete(deleted);
    for (const l of changed) layers.set(l.id, l);
  } catch (err) {
    fail(err);
  }
  renderLayers(); // on a failure: puts the control back to the layer's real state
}

const assetsView = new AssetsView(
  $<HTMLUListElement>('assets'),
  $<HTMLFormElement>('upload-form'),
  $<HTMLInputElement>('upload-file'),
  $<HTMLProgressElement>('upload-progress'),
  ctx,
  (assets) => {
    layersView.setAssets(assets);
    show.assets(assets);
  },
);

$<HTMLSelectElement>('quality').addEventListener('change', (e) => link.setQuality((e.target as HTMLSelectElement).value as PreviewQuality));

tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  token = tokenInput.value.trim() || null;
  saveToken(token ?? '');
  say('');
  link.start();
  studio.restart();
  void refresh();
});

// Uptime ticks between server updates.
window.setInterval(renderStatus, 1000);
// Video positions move on between updates; every few seconds they are read again (a missed or
// dropped update, a clock that drifted).
window.setInterval(() => layersView.tick(), 250);
window.setInterval(() => {
  if (!layersView.hasVideo || document.hidden) return;
  api.request<{ layers: Layer[] }>('GET', '/layers').then(
    (list) => {
      for (const l of list.layers) if (l.media) setMedia(l.id, l.media);
    },
    () => undefined, // the status poll and the socket report the errors
  );
}, MEDIA_POLL_MS);
if (token) showTokenForm();
void refresh();
link.start();
