/** A minimal INI model of the AWS CLI's config and credentials files: sections of key = value. */
export type IniFile = Map<string, Map<string, string>>;

/** Parses INI text; comments and blank lines are dropped, order is kept. */
export function parseIni(text: string): IniFile {
  const file: IniFile = new Map();
  let section: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      const name = header[1].trim();
      section = file.get(name) ?? new Map();
      file.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== undefined && eq > 0) {
      section.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  return file;
}

/** Writes INI text. */
export function formatIni(file: IniFile): string {
  const parts: string[] = [];
  for (const [name, entries] of file) {
    parts.push(`[${name}]`, ...[...entries].map(([k, v]) => `${k} = ${v}`), '');
  }
  return parts.join('\n');
}
