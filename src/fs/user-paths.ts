import { posix, win32 } from 'node:path';

/**
 * Where gemwh keeps its files on each OS, as that OS's users expect to find them:
 * - Linux and other Unixes: the XDG base directories (~/.config, ~/.local/state, ~/.cache).
 * - macOS: ~/Library/Preferences, ~/Library/Application Support, ~/Library/Caches.
 * - Windows: %APPDATA% (roams with the user: settings, secrets) and %LOCALAPPDATA% (this
 *   machine's journal and cache).
 * An absolute XDG_*_HOME wins on every OS, so a user (or a test) who sets one gets it. Relative
 * values are invalid per the XDG spec and ignored; "absolute" is judged by the OS's own rules,
 * so C:\… counts on Windows.
 */
export function userPaths(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>, home: string): { config: string; state: string; cache: string } {
  const path = platform === 'win32' ? win32 : posix;
  const absolute = (value: string | undefined) => (value && path.isAbsolute(value) ? value : undefined);
  const xdg = (name: string) => {
    const value = absolute(env[name]);
    return value === undefined ? undefined : path.join(value, 'gemwh');
  };
  const defaults = (() => {
    if (platform === 'win32') {
      const roaming = absolute(env.APPDATA) ?? path.join(home, 'AppData', 'Roaming');
      const local = absolute(env.LOCALAPPDATA) ?? path.join(home, 'AppData', 'Local');
      return { config: path.join(roaming, 'gemwh'), state: path.join(local, 'gemwh', 'State'), cache: path.join(local, 'gemwh', 'Cache') };
    }
    if (platform === 'darwin') {
      const library = path.join(home, 'Library');
      return { config: path.join(library, 'Preferences', 'gemwh'), state: path.join(library, 'Application Support', 'gemwh'), cache: path.join(library, 'Caches', 'gemwh') };
    }
    return { config: path.join(home, '.config', 'gemwh'), state: path.join(home, '.local', 'state', 'gemwh'), cache: path.join(home, '.cache', 'gemwh') };
  })();
  return {
    config: xdg('XDG_CONFIG_HOME') ?? defaults.config,
    state: xdg('XDG_STATE_HOME') ?? defaults.state,
    cache: xdg('XDG_CACHE_HOME') ?? defaults.cache,
  };
}
