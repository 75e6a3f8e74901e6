/**
 * Starts the clocks a contestant reports: the process's CPU and, where Node has `process.threadCpuUsage` (22 and
 * later), the main thread's own (W1's bottleneck, apart from parse threads and V8's). The function returned gives
 * both in seconds since the start, `mainCpu` null where Node cannot tell.
 */
export function startCpuClock() {
  const process0 = process.cpuUsage();
  const thread0 = process.threadCpuUsage?.();
  return () => {
    const p = process.cpuUsage(process0);
    const t = thread0 && process.threadCpuUsage(thread0);
    return { runCpu: (p.user + p.system) / 1e6, mainCpu: t ? (t.user + t.system) / 1e6 : null };
  };
}
