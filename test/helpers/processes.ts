import { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';

/** A process of the process table: its pid, parent, command name and command line. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

/** Every process of /proc that can still be read (one that exits meanwhile is skipped). */
export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), ppid, comm, cmdline });
    } catch {
      // exited between readdir and read
    }
  }
  return out;
}

/** The processes below `root` (children, their children...), from one read of the process table. */
export function descendants(root: number = process.pid): ProcInfo[] {
  const table = processTable();
  const below = new Set([root]);
  const found: ProcInfo[] = [];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (!below.has(p.pid) && below.has(p.ppid)) {
        below.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** The ffmpeg and ffprobe processes below `root`. */
export function ffmpegDescendants(root: number = process.pid): ProcInfo[] {
  return descendants(root).filter((p) => /ff(mpeg|probe)/.test(p.comm) || /(^|\/)ff(mpeg|probe)( |$)/.test(p.cmdline));
}

/** A record of every process and thread this Node process starts while it is on. */
export interface SpawnWatch {
  /**
   * `file arg1 arg2...` of each process started from this thread since the watch began (or since
   * `clear`), and `worker <file> <workerData as JSON>` of each worker thread started (a process a
   * worker thread starts, e.g. a video decoder's ffmpeg, is started by a thread seen here), and
   * `run <command as JSON>` of each decoder run such a thread is told to start (a video source's
   * reader thread lives across its runs: each run's ffmpeg is started by a `start` message).
   */
  readonly spawned: string[];
  clear(): void;
  stop(): void;
}

/**
 * Watches every process this thread starts, however it is started (`spawn`, `execFile`, `exec`,
 * `fork` all go through `ChildProcess.prototype.spawn`), and every worker thread started (through
 * the `Worker` export of `node:worker_threads`, swapped for a recording subclass), so that a
 * process that exits at once is seen too, which a read of the process table may miss.
 */
export function watchSpawns(): SpawnWatch {
  const spawned: string[] = [];
  // `spawn` is not in Node's typings of ChildProcess: the internal method every way of starting a process calls.
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, options: { file: string; args: string[] }) => unknown };
  const original = proto.spawn;
  proto.spawn = function (options) {
    spawned.push([options.file, ...options.args.slice(1)].join(' '));
    return original.call(this, options);
  };
  const OriginalWorker = workerThreads.Worker;
  class RecordingWorker extends OriginalWorker {
    constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
      super(file, options);
      spawned.push(`worker ${String(file)} ${JSON.stringify(options?.workerData ?? null)}`);
    }
  }
  workerThreads.Worker = RecordingWorker;
  syncBuiltinESMExports();
  // On the prototype, so that threads started before the watch (a source's reader lives on) are seen too.
  const workerProto = OriginalWorker.prototype;
  const post = workerProto.postMessage;
  workerProto.postMessage = function (
    this: workerThreads.Worker,
    value: unknown,
    transferList?: readonly workerThreads.TransferListItem[],
  ) {
    if ((value as { type?: unknown } | null)?.type === 'start') spawned.push(`run ${JSON.stringify(value)}`);
    post.call(this, value, transferList);
  };
  return {
    spawned,
    clear: () => void spawned.splice(0),
    stop() {
      proto.spawn = original;
      workerProto.postMessage = post;
      workerThreads.Worker = OriginalWorker;
      syncBuiltinESMExports();
    },
  };
}
