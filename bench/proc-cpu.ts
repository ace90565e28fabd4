import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc stat times (USER_HZ, `getconf CLK_TCK`: 100 on x86-64 and arm64; proc(5)). */
const CLK_TCK = 100;

/**
 * CPU seconds (user + system) used so far by process `pid`, or with `tid` by one of its
 * threads (`/proc/<pid>/task/<tid>/stat`; a process's main thread has tid = pid), in steps of
 * 1/CLK_TCK s (10 ms). A thread's own time is what it ran, not the time it waited for a core.
 * @returns NaN when the process is gone or there is no /proc (not Linux)
 */
export function cpuSeconds(pid: number | undefined, tid?: number): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold ") ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
