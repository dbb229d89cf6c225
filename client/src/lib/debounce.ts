/** Runs `work` once, `ms` after the last of a burst of calls; `cancel()` drops a pending run (call it when the page goes). */
export function debounce(work: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const call = () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
  return Object.assign(call, { cancel: () => clearTimeout(timer) });
}
