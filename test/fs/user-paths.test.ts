import { describe, expect, it } from 'vitest';
import { userPaths } from '../../src/fs/user-paths.js';

describe('userPaths: each OS its own places', () => {
  it('Linux follows XDG, defaulting to ~/.config, ~/.local/state, ~/.cache', () => {
    expect(userPaths('linux', {}, '/home/me')).toEqual({ config: '/home/me/.config/gemwh', state: '/home/me/.local/state/gemwh', cache: '/home/me/.cache/gemwh' });
    expect(userPaths('linux', { XDG_CONFIG_HOME: '/x/c', XDG_STATE_HOME: '/x/s', XDG_CACHE_HOME: '/x/k' }, '/home/me')).toEqual({ config: '/x/c/gemwh', state: '/x/s/gemwh', cache: '/x/k/gemwh' });
  });

  it('ignores relative XDG values, as the XDG spec says', () => {
    expect(userPaths('linux', { XDG_CONFIG_HOME: 'rel/c', XDG_STATE_HOME: '' }, '/home/me')).toMatchObject({ config: '/home/me/.config/gemwh', state: '/home/me/.local/state/gemwh' });
  });

  it('macOS uses ~/Library unless an XDG folder is set', () => {
    expect(userPaths('darwin', {}, '/Users/me')).toEqual({
      config: '/Users/me/Library/Preferences/gemwh',
      state: '/Users/me/Library/Application Support/gemwh',
      cache: '/Users/me/Library/Caches/gemwh',
    });
    expect(userPaths('darwin', { XDG_CONFIG_HOME: '/Users/me/.config' }, '/Users/me').config).toBe('/Users/me/.config/gemwh');
  });

  it('Windows uses %APPDATA% for settings and %LOCALAPPDATA% for state and cache', () => {
    const env = { APPDATA: 'C:\\Users\\me\\AppData\\Roaming', LOCALAPPDATA: 'D:\\Local' };
    expect(userPaths('win32', env, 'C:\\Users\\me')).toEqual({
      config: 'C:\\Users\\me\\AppData\\Roaming\\gemwh',
      state: 'D:\\Local\\gemwh\\State',
      cache: 'D:\\Local\\gemwh\\Cache',
    });
  });

  it('Windows counts C:\\… as absolute for XDG overrides, and falls back under the profile folder without %APPDATA%', () => {
    const paths = userPaths('win32', { XDG_CONFIG_HOME: 'C:\\xdg\\config', XDG_STATE_HOME: 'relative\\state' }, 'C:\\Users\\me');
    expect(paths).toEqual({ config: 'C:\\xdg\\config\\gemwh', state: 'C:\\Users\\me\\AppData\\Local\\gemwh\\State', cache: 'C:\\Users\\me\\AppData\\Local\\gemwh\\Cache' });
  });
});
