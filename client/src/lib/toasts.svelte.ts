/** Short messages after an action (saved, failed and why), read out by screen readers. */
export interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

export const toasts = $state<Toast[]>([]);
let nextId = 1;

export function toast(kind: Toast['kind'], text: string): void {
  const id = nextId++;
  toasts.push({ id, kind, text });
  setTimeout(() => dismiss(id), kind === 'error' ? 8_000 : 4_000);
}

export function dismiss(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}
