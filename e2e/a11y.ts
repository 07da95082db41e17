/**
 * Accessibility and small-window checks for the e2e suites (issue #14): axe-core, injected
 * through the DevTools protocol (the page's CSP forbids inline scripts, and it must stay on),
 * and the sideways-overflow measure of a screen.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './helpers.js';

let axeSource: string | undefined;

/** One axe finding, shortened for an assertion message. */
export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is now.
 * Returns the serious and critical violations.
 */
export async function axeSerious(page: Page): Promise<AxeFinding[]> {
  axeSource ??= await readFile(join(repoRoot(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: AxeLike }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? 'unknown',
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  return found.filter((f) => f.impact === 'serious' || f.impact === 'critical');
}

interface AxeLike {
  run(
    ctx: Document,
    opts: { resultTypes: string[] }
  ): Promise<{
    violations: {
      id: string;
      impact?: string;
      help: string;
      nodes: { target: string[] }[];
    }[];
  }>;
}

/** Describes findings for an assertion message. */
export function describeFindings(screen: string, f: AxeFinding[]): string {
  return `${screen}: ${f.map((x) => `[${x.impact}] ${x.id}: ${x.help} at ${x.targets.join(', ')}`).join('; ')}`;
}

/**
 * How the page overflows sideways: the document's and the main content's scroll width against
 * their visible width, and how many elements scroll vertically on their own (for double
 * scrollbars: the document and an inner pane both scrolling).
 */
export async function overflow(page: Page): Promise<{
  doc: { scroll: number; client: number };
  content: { scroll: number; client: number };
  verticalScrollers: string[];
}> {
  return page.evaluate(() => {
    const d = document.documentElement;
    const c = document.querySelector('main.content') ?? d;
    const scrollers: string[] = [];
    for (const el of [d, document.body, ...Array.from(document.querySelectorAll('body *'))]) {
      const style = getComputedStyle(el);
      const scrolls =
        el === d || el === document.body
          ? el.scrollHeight > el.clientHeight + 1 && style.overflowY !== 'hidden'
          : /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
      if (scrolls)
        scrollers.push(
          el.tagName.toLowerCase() + (el.className ? `.${String(el.className).split(' ')[0]}` : '')
        );
    }
    return {
      doc: { scroll: d.scrollWidth, client: d.clientWidth },
      content: { scroll: c.scrollWidth, client: c.clientWidth },
      verticalScrollers: scrollers,
    };
  });
}
