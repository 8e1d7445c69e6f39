/** One `-----BEGIN <label>----- ... -----END <label>-----` block, whole. */
export interface PemBlock {
  label: string;
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The PEM blocks in `text`, in order. Literal `\n` sequences count as line breaks (env files and
 * some secret stores cannot hold real ones). Anything but whitespace between the blocks is a
 * `TypeError`: a truncated or mangled key must not be skipped quietly.
 */
export function pemBlocks(text: string): PemBlock[] {
  const normalised = text.replace(/\\n/g, '\n').replace(/\r\n/g, '\n');
  const blocks: PemBlock[] = [];
  let rest = normalised;
  for (const match of normalised.matchAll(BLOCK)) {
    blocks.push({ label: match[1]!, text: match[0] });
    rest = rest.replace(match[0], '');
  }
  if (rest.trim() !== '') throw new TypeError('holds text that is not a whole PEM block (-----BEGIN ...----- to -----END ...-----)');
  return blocks;
}
