// Apart from the generators so that the command definition can list shells without loading them.
export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** The checked-in copy of each script under completions/ (zsh wants `_<command>` on $fpath). */
export const COMPLETION_FILES: Readonly<Record<Shell, string>> = {
  bash: 'gemwh.bash',
  zsh: '_gemwh',
  fish: 'gemwh.fish',
  powershell: 'gemwh.ps1',
};
