/**
 * This process's CPU and memory as `metricsUpdate` reports them (the design documents'
 * `cpuUsage` and `memoryUsage`): CPU time over wall time since the previous sample, in percent of
 * one core (the main thread and the render workers together: they are threads of this process;
 * ffmpeg is not), and the resident set size in bytes.
 */
export class ProcessLoad {
  #cpu = process.cpuUsage();
  #at = performance.now();
  #last = { cpuPercent: 0, rssBytes: 0 };

  /**
   * The figures since the previous call (the first call: since construction), and a new window.
   * `process.memoryUsage.rss()` and `process.cpuUsage()` read /proc and can throw (EMFILE) when the
   * fd table is full: the previous figures are answered then, never a throw into the caller's timer.
   * @returns `cpuPercent`: 100 = one core busy the whole window (may exceed 100); `rssBytes`: RSS, bytes
   */
  sample(): { cpuPercent: number; rssBytes: number } {
    try {
      const now = performance.now();
      const used = process.cpuUsage(this.#cpu);
      const wallUs = (now - this.#at) * 1000;
      this.#cpu = process.cpuUsage();
      this.#at = now;
      const cpuPercent = wallUs > 0 ? Math.round(((used.user + used.system) / wallUs) * 1000) / 10 : 0;
      this.#last = { cpuPercent, rssBytes: process.memoryUsage.rss() };
    } catch {
      // Keep the last figures.
    }
    return { ...this.#last };
  }
}
