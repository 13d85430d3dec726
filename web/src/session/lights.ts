// Lights pads and keys for remote players, straight on the DOM (a remote
// note must not wait for React): the button named by data-note gets
// data-remote with the player's name and their colour, for at least the
// time asked, then both go.

import type { Lights } from './controller';

export function domLights(root: () => HTMLElement | null): Lights {
  const lit = new Map<string, { el: HTMLElement; since: number; timer: ReturnType<typeof setTimeout> | null }>();
  const find = (target: string) => root()?.querySelector<HTMLElement>(`[data-note="${CSS.escape(target)}"]`) ?? null;
  const clear = (target: string) => {
    const l = lit.get(target);
    if (!l) return;
    if (l.timer) clearTimeout(l.timer);
    l.el.removeAttribute('data-remote');
    l.el.style.removeProperty('--remote');
    lit.delete(target);
  };
  return {
    on(target, who, color) {
      const el = find(target);
      if (!el) return;
      const l = lit.get(target);
      if (l?.timer) clearTimeout(l.timer);
      el.setAttribute('data-remote', who);
      el.style.setProperty('--remote', color);
      lit.set(target, { el, since: performance.now(), timer: null });
    },
    off(target, minMs) {
      const l = lit.get(target);
      if (!l) return;
      if (l.timer) clearTimeout(l.timer);
      const left = minMs - (performance.now() - l.since);
      if (left <= 0) clear(target);
      else l.timer = setTimeout(() => clear(target), left);
    },
    allOff() {
      for (const t of [...lit.keys()]) clear(t);
    },
  };
}
