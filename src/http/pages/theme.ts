/**
 * A tenant's accent colour as a stylesheet (pages carry no inline styles). Button text is white
 * or near-black, whichever contrasts more with the accent; links use the accent only when it
 * reaches WCAG's 4.5:1 on white, so no tenant colour can make text unreadable.
 */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export function themeStylesheet(accent: string): string {
  const onAccent = contrastRatio(accent, '#ffffff') >= contrastRatio(accent, '#111111') ? '#ffffff' : '#111111';
  const link = contrastRatio(accent, '#ffffff') >= 4.5 ? accent : '#1f5fbf';
  return `:root { --accent: ${accent}; --accent-text: ${onAccent}; --link: ${link}; }\n`;
}
