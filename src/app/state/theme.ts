import { signal } from '@preact/signals';

/** Light/dark follow the system unless the user picks one (kept in localStorage). */
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'fieldsim:theme';

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export const theme = signal<ThemeChoice>(typeof localStorage === 'undefined' ? 'system' : stored());

export function applyTheme(choice: ThemeChoice = theme.value): void {
  theme.value = choice;
  if (choice === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', choice);
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
