import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { OutputStatus } from '../../../shared/output-status.js';
import type { AssetMeta } from '../../../shared/state-doc.js';
import type { StreamState } from '../../../shared/stream-state.js';
import type { ServerMessage } from '../../../shared/ws-messages.js';
import { AddLayerView } from './add-layer-view.js';
import { AudioView } from './audio-view.js';
import { ChatView } from './chat-view.js';
import { ConfigView } from './config-view.js';
import { DataView } from './data-view.js';
import { byId, type PageContext } from './dom.js';
import { OutputsView } from './outputs-view.js';
import { PreviewLayersView } from './preview-layers-view.js';
import { ScenesView } from './scenes-view.js';
import { StageView } from './stage-view.js';
import { TransportView } from './transport-view.js';

/** What the show panels tell the page. */
export interface ShowHooks {
  /** The program's layers as an answer gave them (a scene activated). */
  setLayers(layers: Layer[]): void;
  /** One program layer as an answer gave it (added, moved or scaled). */
  setLayer(layer: Layer): void;
  /** The stream state an action answered with. */
  setState(state: StreamState): void;
  /** Whether the stream is live now (a config change then restarts the encoder). */
  isLive(): boolean;
}

/**
 * The panels that drive the show, built on index.html's elements: transport (Start ... Reset),
 * move/scale on the preview, the studio panel's preview layers, scenes, data, add a layer, chat,
 * outputs, config and the audio meters. The page forwards its layers, assets, state and WebSocket messages here.
 */
export class ShowPanels {
  readonly #transport: TransportView;
  readonly #scenes: ScenesView;
  readonly #data: DataView;
  readonly #add: AddLayerView;
  readonly #chat: ChatView;
  readonly #outputs: OutputsView;
  readonly #stage: StageView;
  readonly #previewLayers: PreviewLayersView;
  readonly #config: ConfigView;
  readonly #audio: AudioView;

  constructor(ctx: PageContext, hooks: ShowHooks) {
    this.#transport = new TransportView(byId('program'), ctx, hooks.setState);
    this.#scenes = new ScenesView(byId('scenes-panel'), ctx, hooks.setLayers);
    this.#data = new DataView(byId('data-panel'), ctx);
    this.#add = new AddLayerView(byId('add-panel'), ctx, hooks.setLayer);
    this.#chat = new ChatView(byId('chat-panel'), ctx);
    this.#outputs = new OutputsView(byId('outputs-panel'), ctx);
    this.#stage = new StageView(byId('program-frame'), byId<HTMLSelectElement>('stage-layer'), ctx, hooks.setLayer);
    this.#previewLayers = new PreviewLayersView(byId<HTMLOListElement>('preview-layers'), ctx);
    this.#config = new ConfigView(byId('config-panel'), ctx, hooks.isLive, (c) => {
      this.#stage.setCanvas(c);
      this.#audio.setConfig(c);
    });
    this.#audio = new AudioView(byId('audio-panel'), ctx);
    const studio = byId<HTMLInputElement>('studio-mode');
    studio.addEventListener('change', () => this.#setStudio(studio.checked));
    this.#setStudio(studio.checked);
  }

  #setStudio(on: boolean): void {
    this.#scenes.setStudio(on);
    this.#previewLayers.setStudio(on);
    this.#add.setStudio(on);
  }

  /** Reads scenes, data, chat, outputs and config (with the master bus) again. */
  async refresh(): Promise<void> {
    await Promise.all([
      this.#scenes.refresh(),
      this.#data.refresh(),
      this.#chat.refresh(),
      this.#outputs.refresh(),
      this.#config.refresh(),
    ]);
  }

  /** The program's layers changed. */
  layers(list: Layer[]): void {
    this.#stage.setLayers(list);
    this.#data.setLayers(list);
    this.#audio.setLayers(list);
  }

  assets(list: AssetMeta[]): void {
    this.#add.setAssets(list);
    this.#stage.setAssets(list);
  }

  state(state: StreamState | null): void {
    this.#transport.render(state);
  }

  /** A take swapped preview and program. */
  taken(): void {
    this.#previewLayers.changed();
  }

  /** A WebSocket message (those the panels follow; the rest are ignored). */
  message(msg: ServerMessage): void {
    if (msg.type === 'previewLayerUpdate') this.#previewLayers.changed();
    else if (msg.type === 'dataUpdate') this.#data.setData(msg.payload.data);
    else if (msg.type === 'chat') this.#chat.add(msg.payload);
    else if (msg.type === 'chatRemoved') this.#chat.remove(msg.payload.id);
    else if (msg.type === 'scenesUpdate') this.#scenes.show(msg.payload);
    else if (msg.type === 'audioLevels') this.#audio.levels(msg.payload);
    else if (msg.type === 'stateUpdate' && msg.payload.config) this.#audio.setConfig(msg.payload.config);
  }

  output(status: OutputStatus): void {
    this.#outputs.update(status);
  }
}
