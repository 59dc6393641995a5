import { dashboardPage } from '@matinee/core';
import { describe, expect, it } from 'vitest';

/**
 * WCAG 2.2 AA for every colour the dashboard can show, in both themes, including states axe only meets
 * when a preview is in them (failed, waking, removing): text 4.5:1 on the page and in fields, control
 * borders 3:1 (1.4.11). The e2e suite runs axe on the rendered page as well.
 */
const page = dashboardPage();

function variables(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/--([a-z]+):\s*(#[0-9a-f]{6})/g)].map((m) => [m[1], m[2]]));
}

const light = variables(/:root \{([^}]*)\}/.exec(page)?.[1] ?? '');
const dark = {
  ...light,
  ...variables(/prefers-color-scheme: dark\) \{ :root \{([^}]*)\}/.exec(page)?.[1] ?? ''),
};

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('the dashboard’s colours', () => {
  for (const [name, theme] of Object.entries({ light, dark })) {
    it(`meet AA in the ${name} theme`, () => {
      const { bg, field, control } = theme as Record<string, string>;
      expect(Object.keys(theme)).toEqual(
        expect.arrayContaining(['fg', 'muted', 'accent', 'ok', 'bad', 'warn']),
      );
      for (const text of ['fg', 'muted', 'accent', 'ok', 'bad', 'warn'])
        expect({ text, ratio: contrast(theme[text] as string, bg as string) }).toEqual({
          text,
          ratio: expect.toSatisfy((r: number) => r >= 4.5),
        });
      expect(contrast(theme.fg as string, field as string)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(control as string, bg as string)).toBeGreaterThanOrEqual(3);
      expect(contrast(control as string, field as string)).toBeGreaterThanOrEqual(3);
    });
  }

  it('differ between the themes', () => {
    expect(dark.bg).not.toBe(light.bg);
    expect(dark.ok).not.toBe(light.ok);
  });
});
