/**
 * `memparse`: a size as mount options give it — a number (decimal or `0x`
 * hex) with an optional K/M/G/T/P/E suffix (powers of 1024) — and the text
 * after it; null when it does not start with a number.
 * @see lib/cmdline.c memparse
 */
export function memparse(text: string): { value: bigint; rest: string } | null {
  const m = /^(0x[0-9a-f]+|\d+)([kmgtpe]?)(.*)$/i.exec(text);
  if (!m) return null;
  const shift = 10n * BigInt(' kmgtpe'.indexOf((m[2] || ' ').toLowerCase()));
  return { value: BigInt(m[1]!) << shift, rest: m[3]! };
}
