/**
 * The live preview: JPEG frames drawn onto a canvas. Decoding is asynchronous
 * (`createImageBitmap`); when frames come faster than they decode, only the newest waiting one is
 * drawn, so a slow device shows a lower frame rate rather than a growing delay.
 */
export class PreviewView {
  #busy = false;
  #next: { jpeg: Blob; frame: number } | null = null;
  #drawn = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly caption: HTMLElement,
  ) {}

  /** Frames drawn since the page loaded (the e2e test reads it from `data-frames`). */
  get drawn(): number {
    return this.#drawn;
  }

  /** Queues a frame; it replaces a queued one that was not drawn yet. */
  show(jpeg: Blob, frame: number): void {
    this.#next = { jpeg, frame };
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#next) {
      const { jpeg, frame } = this.#next;
      this.#next = null;
      try {
        const bitmap = await createImageBitmap(jpeg);
        if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
          this.canvas.width = bitmap.width;
          this.canvas.height = bitmap.height;
        }
        this.canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
        this.caption.textContent = `frame ${frame} · ${bitmap.width}x${bitmap.height}`;
        bitmap.close();
        this.#drawn++;
        this.canvas.dataset['frames'] = String(this.#drawn);
      } catch {
        // A frame that does not decode is skipped; the next one replaces it.
      }
    }
    this.#busy = false;
  }
}
